"""Labeled N-way K-shot tasks as a tf.data pipeline, in graph mode.

A task is a pair ``(support, query)`` of float32 images in [0, 1] with shapes
``(N, K, H, W, C)`` and ``(N, Q, H, W, C)``. Labels are implicit and class-major:
row ``n`` of both tensors is class ``n`` of the task (see `meta.meta_learner.task_labels`).

Task ``i`` of a stream is a pure function of ``(seed, i)`` (stateless random ops), so a
stream is reproducible, a fixed evaluation set is just ``i = 0 .. num_tasks - 1``, and a
resumed training run continues the same stream by starting at the next task index.
"""
import dataclasses

import numpy as np
import tensorflow as tf


@dataclasses.dataclass(frozen=True)
class TaskShape:
    n_way: int
    k_shot: int
    n_query: int

    @property
    def per_class(self) -> int:
        return self.k_shot + self.n_query


class TaskSampler:
    """Samples tasks from a fixed set of uint8 images with integer class labels."""

    def __init__(self, images: np.ndarray, labels: np.ndarray, shape: TaskShape, name: str):
        classes, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
        if len(classes) < shape.n_way:
            raise ValueError(
                f"{name}: only {len(classes)} classes, but --n_way={shape.n_way} needs at least "
                f"{shape.n_way}. Lower --n_way, or label more classes (--label_fraction).")
        if counts.min() < shape.per_class:
            raise ValueError(
                f"{name}: a class has {counts.min()} images, but K + query = {shape.per_class} "
                f"are needed per class. Lower --k_shot or the query size.")
        # Row c of `table` lists the image indices of class c, padded to the largest class.
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        table = np.zeros((len(classes), counts.max()), dtype=np.int32)
        for c, (start, count) in enumerate(zip(starts, counts)):
            table[c, :count] = order[start:start + count]
        self.shape = shape
        self.num_classes = len(classes)
        self._images = tf.constant(images)
        self._table = tf.constant(table)
        self._counts = tf.constant(counts, dtype=tf.int32)

    def sample(self, seed: tf.Tensor):
        """One task for a stateless seed of shape [2]."""
        n, per_class = self.shape.n_way, self.shape.per_class
        class_seed, member_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        # N distinct classes: the first N of a random permutation.
        classes = tf.argsort(tf.random.stateless_uniform([self.num_classes], class_seed))[:n]
        # K + Q distinct members per class: rank uniform keys, padding slots ranked last.
        slots = tf.shape(self._table)[1]
        keys = tf.random.stateless_uniform([n, slots], member_seed)
        valid = tf.range(slots)[None, :] < tf.gather(self._counts, classes)[:, None]
        members = tf.argsort(tf.where(valid, keys, 2.0), axis=1)[:, :per_class]
        indices = tf.gather(tf.gather(self._table, classes), members, batch_dims=1)
        images = tf.cast(tf.gather(self._images, indices), tf.float32) / 255.0
        return images[:, :self.shape.k_shot], images[:, self.shape.k_shot:]


def task_stream(sampler: TaskSampler, seed: int, start: int = 0, count=None) -> tf.data.Dataset:
    """Tasks `start, start + 1, ...` (forever, or `count` of them) of the stream `seed`."""
    indices = tf.data.Dataset.counter(start, dtype=tf.int64)
    if count is not None:
        indices = indices.take(count)
    seed = tf.constant(seed, tf.int64)
    return indices.map(lambda i: sampler.sample(tf.stack([seed, i])),
                       num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def meta_batches(tasks: tf.data.Dataset, meta_batch: int) -> tf.data.Dataset:
    """Stack tasks into meta-batches of static size, prefetched ahead of the MAML step."""
    return tasks.batch(meta_batch, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
