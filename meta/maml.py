"""Model-agnostic meta-learning (Finn et al., 2017) as a custom `tf.function` loop.

A meta-batch is ``(support, query)`` with shapes ``(T, N, K, H, W, C)`` and
``(T, N, Q, H, W, C)``; labels are class-major (row n is class n). For each task the
inner loop adapts the weights with a few SGD steps on the support set; the outer
(meta) loss is the adapted model's loss on the query set, and Adam follows its
gradient. Second-order by default: the inner gradients stay on the outer tape, so
the meta-gradient differentiates through them; ``first_order`` stops them.

The meta-loss is the mean of the tasks' query losses, or their weighted mean when
``task_weights`` gives a weight to each position of the meta-batch (SSML weighs its
generated tasks apart from its labeled ones).

The train step runs under a `tf.distribute.Strategy`: each replica takes its share of
the tasks, the gradients are summed across replicas, clipped, then applied once.
"""
import dataclasses

import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class InnerLoop:
    steps: int
    learning_rate: float


def task_labels(n_way: int, per_class: int) -> tf.Tensor:
    """Class-major labels [0]*per_class + [1]*per_class + ..., matching the task layout."""
    return tf.repeat(tf.range(n_way), per_class)


def _flatten(images):
    """(N, K, H, W, C) -> (N*K, H, W, C) and its labels."""
    shape = tf.shape(images)
    labels = task_labels(images.shape[0], shape[1])
    return tf.reshape(images, tf.concat([[-1], shape[2:]], 0)), labels


def _loss(logits, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))


def _accuracy(logits, labels):
    return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels),
                                  tf.float32))


class MAML(tf.Module):
    def __init__(self, model, optimizer, train_loop: InnerLoop, first_order: bool = False,
                 clip_norm: float = 0.0, strategy=None, jit_compile: bool = False,
                 task_weights=None):
        super().__init__()
        self.model, self.optimizer = model, optimizer
        self.train_loop, self.first_order, self.clip_norm = train_loop, first_order, clip_norm
        self.task_weights = task_weights  # one per position of the meta-batch, or None
        self.strategy = strategy or tf.distribute.get_strategy()
        self._task_gradients = tf.function(self._task_gradients_fn, jit_compile=jit_compile)
        self.train_step = tf.function(self._train_step_fn)
        self._evaluate_task = tf.function(self._evaluate_task_fn)

    # ----------------------------------------------------------------- inner loop
    def adapt(self, weights, support, loop: InnerLoop, second_order: bool):
        """Fast weights after `loop.steps` SGD steps on the support set.

        Python-unrolled so the outer tape can differentiate through every step."""
        x, y = _flatten(support)
        for _ in range(loop.steps):
            weights = self._sgd_step(weights, x, y, loop.learning_rate, second_order)
        return weights

    def _sgd_step(self, weights, x, y, learning_rate, second_order: bool):
        """One inner SGD step on (x, y); with `second_order` its gradient stays on any
        outer tape."""
        with tf.GradientTape() as tape:
            tape.watch(weights)
            loss = _loss(self.model.forward(weights, x), y)
        grads = tape.gradient(loss, weights)
        if not second_order:
            grads = [tf.stop_gradient(g) for g in grads]
        return [w - learning_rate * g for w, g in zip(weights, grads)]

    def query_loss(self, weights, support, query, loop: InnerLoop, second_order: bool):
        fast = self.adapt(list(weights), support, loop, second_order)
        x, y = _flatten(query)
        logits = self.model.forward(fast, x)
        return _loss(logits, y), _accuracy(logits, y)

    # ----------------------------------------------------------------- outer loop
    def _task_gradients_fn(self, support, query, task_weights, weight_total):
        """Sum over this replica's tasks of weight * loss / weight_total (the weights of
        all replicas' tasks), its gradient, and the plain sums of losses and accuracies."""
        weights = self.model.trainable_weights
        with tf.GradientTape() as tape:
            losses, accuracies = [], []
            # A Python loop over tasks beat tf.map_fn on CPU.
            for t in range(support.shape[0]):
                loss, acc = self.query_loss(weights, support[t], query[t], self.train_loop,
                                            second_order=not self.first_order)
                losses.append(loss)
                accuracies.append(acc)
            losses = tf.stack(losses)
            scaled = tf.reduce_sum(losses * tf.cast(task_weights, losses.dtype)) / weight_total
        return tape.gradient(scaled, weights), tf.reduce_sum(losses), tf.add_n(accuracies)

    def _meta_batch_weights(self, meta_batch):
        if self.task_weights is None:
            return tf.ones([meta_batch])
        if len(self.task_weights) != meta_batch:
            raise ValueError(f"{len(self.task_weights)} task weights for a meta-batch of "
                             f"{meta_batch} tasks.")
        return tf.constant(self.task_weights, tf.float32)

    def _replica_step(self, support, query, meta_batch_weights):
        # Replicas take consecutive slices of the meta-batch; weigh each with its own.
        context = tf.distribute.get_replica_context()
        size = support.shape[0]
        first = context.replica_id_in_sync_group * size
        task_weights = meta_batch_weights[first:first + size]
        grads, loss_sum, acc_sum = self._task_gradients(support, query, task_weights,
                                                        tf.reduce_sum(meta_batch_weights))
        grads = context.all_reduce(tf.distribute.ReduceOp.SUM, grads)
        norm = tf.linalg.global_norm(grads)
        if self.clip_norm > 0:
            grads, _ = tf.clip_by_global_norm(grads, self.clip_norm, use_norm=norm)
        # Gradients are already summed across replicas: apply them as they are.
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_weights),
                                       skip_gradients_aggregation=True)
        return loss_sum, acc_sum, norm

    def _train_step_fn(self, support, query):
        """One meta-update on a (distributed) meta-batch; returns mean loss, mean
        query accuracy and the gradient's global norm before clipping."""
        global_tasks = self.strategy.num_replicas_in_sync * (
            self.strategy.experimental_local_results(support)[0].shape[0])
        loss, acc, norm = self.strategy.run(
            self._replica_step, args=(support, query, self._meta_batch_weights(global_tasks)))
        total = lambda v: self.strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)  # noqa
        norm = self.strategy.experimental_local_results(norm)[0]
        count = tf.cast(global_tasks, tf.float32)
        return total(loss) / count, total(acc) / count, norm

    # ----------------------------------------------------------------- evaluation
    def _evaluate_task_fn(self, support, query, steps, learning_rate):
        """Query accuracy of one task after `steps` SGD steps (a graph loop, any count)."""
        x, y = _flatten(support)
        fast = [tf.identity(w) for w in self.model.trainable_weights]
        for _ in tf.range(steps):
            fast = self._sgd_step(fast, x, y, learning_rate, second_order=False)
        qx, qy = _flatten(query)
        return _accuracy(self.model.forward(fast, qx), qy)

    def evaluate(self, tasks: tf.data.Dataset, loop: InnerLoop, progress=None):
        """Per-task query accuracies (numpy) over a finite stream of single tasks."""
        accuracies = []
        steps = tf.constant(loop.steps)
        lr = tf.constant(loop.learning_rate, self.model.dtype)
        for support, query in tasks:
            accuracies.append(float(self._evaluate_task(support, query, steps, lr)))
            if progress:
                progress(len(accuracies))
        return accuracies
