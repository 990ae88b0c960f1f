"""Model-agnostic meta-learning (Finn et al., 2017).

For each task the inner loop adapts the weights with a few SGD steps on the support set;
the task's loss is the adapted model's loss on the query set (meta/meta_learner.py does
the meta-update). Second-order by default: the inner gradients stay on the outer tape, so
the meta-gradient differentiates through them; ``first_order`` stops them.
"""
import dataclasses

import tensorflow as tf

from meta.meta_learner import MetaLearner, accuracy, cross_entropy, flatten


@dataclasses.dataclass(frozen=True)
class InnerLoop:
    steps: int
    learning_rate: float


class MAML(MetaLearner):
    def __init__(self, model, optimizer, train_loop: InnerLoop, first_order: bool = False,
                 **options):
        self.train_loop, self.first_order = train_loop, first_order
        super().__init__(model, optimizer, model.trainable_weights, **options)

    def adapt(self, weights, support, loop: InnerLoop, second_order: bool):
        """Fast weights after `loop.steps` SGD steps on the support set.

        Python-unrolled so the outer tape can differentiate through every step."""
        x, y = flatten(support)
        for _ in range(loop.steps):
            weights = self._sgd_step(weights, x, y, loop.learning_rate, second_order)
        return weights

    def _sgd_step(self, weights, x, y, learning_rate, second_order: bool):
        """One inner SGD step on (x, y); with `second_order` its gradient stays on any
        outer tape."""
        with tf.GradientTape() as tape:
            tape.watch(weights)
            loss = cross_entropy(self.model.forward(weights, x), y)
        grads = tape.gradient(loss, weights)
        if not second_order:
            grads = [tf.stop_gradient(g) for g in grads]
        return [w - learning_rate * g for w, g in zip(weights, grads)]

    def query_loss(self, weights, support, query, loop: InnerLoop, second_order: bool):
        fast = self.adapt(list(weights), support, loop, second_order)
        x, y = flatten(query)
        logits = self.model.forward(fast, x)
        return cross_entropy(logits, y), accuracy(logits, y)

    def task_loss(self, weights, support, query):
        return self.query_loss(weights, support, query, self.train_loop,
                               second_order=not self.first_order)

    def _evaluate_task_fn(self, support, query, steps, learning_rate):
        """Query accuracy of one task after `steps` SGD steps (a graph loop, any count)."""
        x, y = flatten(support)
        fast = [tf.identity(w) for w in self.model.trainable_weights]
        for _ in tf.range(steps):
            fast = self._sgd_step(fast, x, y, learning_rate, second_order=False)
        qx, qy = flatten(query)
        return accuracy(self.model.forward(fast, qx), qy)
