"""LASIUM tasks: classes made from nearby latent codes of a trained generator.

For an N-way task with M = K + Q members per class, N anchors z_n ~ N(0, I) are drawn,
then each class's members are latents near its anchor:

* ``n``  (LASIUM-N):  z_n + eps,             eps ~ N(0, sigma^2 I)
* ``ro`` (LASIUM-RO): z_n + alpha (e - z_n),  e ~ N(0, I) fresh per member
* ``oc`` (LASIUM-OC): z_n + alpha (z_j - z_n), z_j another anchor of the same task,
  drawn uniformly per member (any N >= 2)

Optionally anchors are redrawn until every pairwise squared distance exceeds `epsilon`,
and member 0 of every class is its anchor itself, so that the first support image of a
class is the generator's image of the anchor (LASIUM's Omniglot recipe for LASIUM-N).
All draws are stateless, keyed by a seed, so meta-batch i of a stream is a function of
(seed, i) alone, like the labeled stream.
"""
import dataclasses

import tensorflow as tf

from tasks.augmentation import QueryShift, shift_queries
from tasks.labeled import TaskShape

SAMPLERS = ("n", "ro", "oc")
# LASIUM's own Omniglot setting (epsilon 246.1 for 5 anchors in 128 dims) accepts about 4%
# of draws; this bound fails it in fewer than one in 10^170 tasks, yet stops an unreachable
# epsilon in about a second in the (graph-mode) task pipeline.
_MAX_ANCHOR_DRAWS = 10_000


@dataclasses.dataclass(frozen=True)
class LasiumConfig:
    sampler: str = "ro"
    sigma: float = 0.5  # LASIUM-N
    ro_alpha: float = 0.2  # LASIUM-RO
    oc_alpha: float = 0.6  # LASIUM-OC
    anchor_epsilon: float = 0.0  # minimum pairwise squared anchor distance (0: no rejection)
    anchor_support: bool = False  # member 0 of each class is its anchor

    def __post_init__(self):
        if self.sampler not in SAMPLERS:
            raise ValueError(f"--lasium={self.sampler!r} is not one of {SAMPLERS}.")


def _anchors(seed, n, dim, epsilon):
    """N anchors, redrawn (up to a bound, then an error) until pairwise far enough apart."""
    def draw(i):
        return tf.random.stateless_normal([n, dim], tf.random.experimental.stateless_fold_in(seed, i))

    def too_close(z):
        sq = tf.reduce_sum(tf.square(z[:, None] - z[None]), -1) + tf.eye(n) * 1e30
        return tf.reduce_min(sq) <= epsilon

    i, z = tf.constant(0, tf.int64), draw(0)
    if epsilon > 0:
        i, z = tf.while_loop(lambda i, z: too_close(z) & (i < _MAX_ANCHOR_DRAWS),
                             lambda i, z: (i + 1, draw(i + 1)), (i, z))
        tf.debugging.assert_less(i, tf.constant(_MAX_ANCHOR_DRAWS, tf.int64), message=(
            f"no {n} anchors with pairwise squared distance > {epsilon} in "
            f"{_MAX_ANCHOR_DRAWS} draws: lower --lasium_anchor_epsilon"))
    return z


def sample_latents(seed, n: int, members: int, dim: int, config: LasiumConfig):
    """Anchors (n, dim) and member latents (n, members, dim) of one task; row c is class c."""
    anchor_seed, member_seed, other_seed = tf.unstack(
        tf.random.experimental.stateless_split(seed, 3))
    z = _anchors(anchor_seed, n, dim, config.anchor_epsilon)
    near = members - 1 if config.anchor_support else members
    anchors = tf.tile(z[:, None], [1, near, 1])
    if config.sampler == "n":
        nearby = anchors + config.sigma * tf.random.stateless_normal([n, near, dim], member_seed)
    elif config.sampler == "ro":
        targets = tf.random.stateless_normal([n, near, dim], member_seed)
        nearby = anchors + config.ro_alpha * (targets - anchors)
    else:  # oc: an offset in 1..n-1 picks another anchor, never the class's own.
        offsets = tf.random.stateless_uniform([n, near], other_seed, 1, n, dtype=tf.int32)
        others = tf.gather(z, (tf.range(n)[:, None] + offsets) % n)
        nearby = anchors + config.oc_alpha * (others - anchors)
    return z, tf.concat([z[:, None], nearby], 1) if config.anchor_support else nearby


def class_mixtures(seed, n: int, num_classes: int, parts: int):
    """(n, num_classes) mixture weights for the n classes of one task: class i mixes a
    primary labeled class (distinct across the n) with parts - 1 random others, weights
    ~ Dirichlet(1). parts = 1 gives one-hot codes of n distinct labeled classes."""
    order_seed, other_seed, weight_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    primary = tf.argsort(tf.random.stateless_uniform([num_classes], order_seed))[:n]
    others = tf.random.stateless_uniform([n, parts - 1], other_seed, 0, num_classes, tf.int32)
    classes = tf.concat([primary[:, None], others], 1)
    gamma = -tf.math.log(tf.random.stateless_uniform([n, parts], weight_seed, 1e-6, 1.0))
    weights = gamma / tf.reduce_sum(gamma, 1, keepdims=True)
    return tf.reduce_sum(tf.one_hot(classes, num_classes) * weights[..., None], 1)


class GeneratedTasks:
    """Meta-batches of tasks drawn by a generator from LASIUM latents.

    With a class-conditional generator (`num_classes` > 0, models/ssgan.py) each class of a
    task is also given a class code, a mixture of `mix_classes` labeled classes shared by
    all its members, while the latents vary around the class's anchor as usual."""

    def __init__(self, generator, latent_dim: int, shape: TaskShape, image_shape,
                 config: LasiumConfig, query_shift: QueryShift = None,
                 num_classes: int = 0, mix_classes: int = 1):
        if shape.n_way < 2 and config.sampler == "oc":
            raise ValueError("LASIUM-OC needs --n_way >= 2 (members move toward other anchors).")
        self.generator, self.latent_dim = generator, latent_dim
        self.shape, self.image_shape, self.config = shape, tuple(image_shape), config
        self.query_shift = query_shift  # None: query images as generated
        self.num_classes, self.mix_classes = num_classes, mix_classes
        if num_classes and num_classes < shape.n_way:
            raise ValueError(f"Class-conditional tasks need at least --n_way={shape.n_way} "
                             f"labeled classes; the label budget leaves {num_classes}. Raise "
                             "--label_fraction.")

    def meta_batch(self, seed, size: int):
        """(support, query) of `size` tasks, from one generator call on all their latents."""
        n, m = self.shape.n_way, self.shape.per_class
        seeds = tf.random.experimental.stateless_split(seed, size)
        latents = tf.stack([sample_latents(seeds[t], n, m, self.latent_dim, self.config)[1]
                            for t in range(size)])
        inputs = tf.reshape(latents, [-1, self.latent_dim])
        if self.num_classes:
            codes = tf.stack([class_mixtures(tf.random.experimental.stateless_fold_in(seeds[t], 1),
                                             n, self.num_classes, self.mix_classes)
                              for t in range(size)])  # (size, n, classes)
            codes = tf.repeat(tf.reshape(codes, [size * n, self.num_classes]), m, axis=0)
            inputs = (inputs, codes)
        images = self.generator(inputs, training=False)
        if tuple(images.shape[1:]) != self.image_shape:
            images = tf.image.resize(images, self.image_shape[:2], antialias=True)
        images = tf.reshape(images, [size, n, m, *self.image_shape])
        support, query = images[:, :, :self.shape.k_shot], images[:, :, self.shape.k_shot:]
        if self.query_shift:
            query = shift_queries(query, tf.random.experimental.stateless_fold_in(seed, -1),
                                  self.query_shift)
        return support, query


def generated_stream(tasks: GeneratedTasks, seed: int, meta_batch: int, start: int = 0):
    """Meta-batches `start, start + 1, ...` of the stream `seed`, forever, prefetched."""
    seed = tf.constant(seed, tf.int64)
    return (tf.data.Dataset.counter(start, dtype=tf.int64)
            .map(lambda i: tasks.meta_batch(tf.stack([seed, i]), meta_batch))
            .prefetch(tf.data.AUTOTUNE))
