"""What every meta-learner shares: the meta-update over a weighted meta-batch, as a custom
`tf.function` under a `tf.distribute.Strategy`, and per-task evaluation.

A meta-batch is ``(support, query)`` with shapes ``(T, N, K, H, W, C)`` and
``(T, N, Q, H, W, C)``; labels are class-major (row n is class n). A learner says how one
task's query loss follows from the meta-parameters (`task_loss`), which variables it trains,
and how it solves a test task (`_evaluate_task_fn`); Adam follows the meta-loss's gradient.

The meta-loss is the mean of the tasks' query losses, or their weighted mean when
``task_weights`` gives a weight to each position of the meta-batch (SSML weighs its
generated tasks apart from its labeled ones). Each replica of the strategy takes its share
of the tasks; the gradients are summed across replicas, clipped, then applied once.
"""
import abc

import tensorflow as tf


def task_labels(n_way: int, per_class: int) -> tf.Tensor:
    """Class-major labels [0]*per_class + [1]*per_class + ..., matching the task layout."""
    return tf.repeat(tf.range(n_way), per_class)


def flatten(images):
    """(N, K, H, W, C) -> (N*K, H, W, C) and its labels."""
    shape = tf.shape(images)
    labels = task_labels(images.shape[0], shape[1])
    return tf.reshape(images, tf.concat([[-1], shape[2:]], 0)), labels


def cross_entropy(logits, labels):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))


def accuracy(logits, labels):
    return tf.reduce_mean(tf.cast(tf.equal(tf.argmax(logits, -1, output_type=tf.int32), labels),
                                  tf.float32))


class MetaLearner(tf.Module, metaclass=abc.ABCMeta):
    def __init__(self, model, optimizer, variables, clip_norm: float = 0.0, strategy=None,
                 jit_compile: bool = False, task_weights=None):
        super().__init__()
        self.model, self.optimizer, self.clip_norm = model, optimizer, clip_norm
        self.trained = list(variables)  # the meta-parameters this learner updates
        self.task_weights = task_weights  # one per position of the meta-batch, or None
        self.strategy = strategy or tf.distribute.get_strategy()
        self._task_gradients = tf.function(self._task_gradients_fn, jit_compile=jit_compile)
        self.train_step = tf.function(self._train_step_fn)
        self._evaluate_task = tf.function(self._evaluate_task_fn)

    @abc.abstractmethod
    def task_loss(self, weights, support, query):
        """(query loss, query accuracy) of one training task under `weights` (the values of
        `self.trained`), differentiable with respect to them."""

    @abc.abstractmethod
    def _evaluate_task_fn(self, support, query, steps, learning_rate):
        """Query accuracy of one test task (`steps` and `learning_rate`: an inner loop's)."""

    # ----------------------------------------------------------------- meta-update
    def _task_gradients_fn(self, support, query, task_weights, weight_total):
        """Sum over this replica's tasks of weight * loss / weight_total (the weights of
        all replicas' tasks), its gradient, and the plain sums of losses and accuracies."""
        with tf.GradientTape() as tape:
            losses, accuracies = [], []
            # A Python loop over tasks beat tf.map_fn on CPU.
            for t in range(support.shape[0]):
                loss, acc = self.task_loss(self.trained, support[t], query[t])
                losses.append(loss)
                accuracies.append(acc)
            losses = tf.stack(losses)
            scaled = tf.reduce_sum(losses * tf.cast(task_weights, losses.dtype)) / weight_total
        return tape.gradient(scaled, self.trained), tf.reduce_sum(losses), tf.add_n(accuracies)

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
        self.optimizer.apply_gradients(zip(grads, self.trained), skip_gradients_aggregation=True)
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
    def evaluate(self, tasks: tf.data.Dataset, loop, progress=None):
        """Per-task query accuracies (numpy) over a finite stream of single tasks; `loop`
        (an InnerLoop) is read by learners that adapt, ignored by others."""
        accuracies = []
        steps = tf.constant(loop.steps)
        lr = tf.constant(loop.learning_rate, self.model.dtype)
        for support, query in tasks:
            accuracies.append(float(self._evaluate_task(support, query, steps, lr)))
            if progress:
                progress(len(accuracies))
        return accuracies
