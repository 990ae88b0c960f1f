"""Merging the labeled and the generated task streams into one stream of meta-batches.

Strategies (`share` is the labeled share of all tasks seen):

* ``alternate``: whole meta-iterations are labeled or generated, in blocks of `block`
  iterations; block b is labeled iff floor((b + 1) * share) > floor(b * share). Over any
  number of blocks the labeled count is floor(blocks * share), so the ratio is exact.
* ``batch``: every meta-batch holds share * meta_batch labeled tasks (a whole number)
  and the rest generated, concatenated; the generated ones may weigh less in the
  meta-loss (`task_weights`).
* ``schedule``: like ``alternate`` with blocks of 1, but the share moves linearly from
  `share_start` to `share` over the run (e.g. generated tasks first, labels later).

Only the stream that is chosen advances, so no task is made and thrown away, and
which stream a step uses is a function of the step alone: a resumed run restarts each
stream at the number of its meta-batches already consumed.
"""
import dataclasses

import tensorflow as tf

STRATEGIES = ("alternate", "batch", "schedule")


@dataclasses.dataclass(frozen=True)
class MixConfig:
    strategy: str
    share: float  # labeled share of tasks (the end share for `schedule`)
    block: int = 1  # alternate: meta-iterations per block
    share_start: float = 0.0  # schedule: share at the first step
    iterations: int = 1  # schedule: steps over which the share moves

    def __post_init__(self):
        if self.strategy not in STRATEGIES:
            raise ValueError(f"--mix={self.strategy!r} is not one of {STRATEGIES}.")
        if not (0.0 <= self.share <= 1.0 and 0.0 <= self.share_start <= 1.0):
            raise ValueError("--labeled_share and --labeled_share_start must lie in [0, 1].")
        if self.block < 1 or self.iterations < 1:
            raise ValueError("--mix_block must be >= 1.")

    @property
    def uses_labeled(self) -> bool:
        return self.share > 0 or (self.strategy == "schedule" and self.share_start > 0)

    @property
    def uses_generated(self) -> bool:
        return self.share < 1 or (self.strategy == "schedule" and self.share_start < 1)


def labeled_before(step, config: MixConfig):
    """How many of the meta-iterations [0, step) are labeled (alternate, schedule)."""
    step = tf.cast(step, tf.float64)
    if config.strategy == "alternate":
        block, within = tf.math.floordiv(step, config.block), tf.math.floormod(step, config.block)
        block_labeled = tf.floor((block + 1) * config.share) > tf.floor(block * config.share)
        return (tf.floor(block * config.share) * config.block
                + tf.where(block_labeled, within, tf.zeros_like(within)))
    # schedule: the sum over steps of a share moving linearly from share_start to share.
    t = tf.minimum(step, config.iterations)
    slope = (config.share - config.share_start) / config.iterations
    total = config.share_start * t + slope * t * (t - 1) / 2 + config.share * (step - t)
    return tf.floor(total + 1e-9)


def is_labeled(step, config: MixConfig):
    return labeled_before(step + 1, config) > labeled_before(step, config)


def labeled_per_batch(config: MixConfig, meta_batch: int) -> int:
    """batch: how many tasks of each meta-batch are labeled (they come first)."""
    k = config.share * meta_batch
    if abs(k - round(k)) > 1e-9:
        raise ValueError(f"--mix=batch needs --labeled_share * --meta_batch to be whole; "
                         f"{config.share} * {meta_batch} = {k:g}.")
    return int(round(k))


def task_weights(config: MixConfig, meta_batch: int, generated_weight: float):
    """The meta-loss weight of each position of a meta-batch (None: all equal). Only
    `batch` mixes the two kinds of task within a meta-batch, so only it can weigh them
    apart; elsewhere a weight would cancel in the meta-batch's weighted mean."""
    if generated_weight == 1.0 or not (config.uses_labeled and config.uses_generated):
        return None
    if config.strategy != "batch":
        raise ValueError(f"--generated_weight needs --mix=batch, not --mix={config.strategy}.")
    k = labeled_per_batch(config, meta_batch)
    return (1.0,) * k + (generated_weight,) * (meta_batch - k)


def mixed_stream(labeled, generated, config: MixConfig, meta_batch: int, start: int = 0):
    """One stream of meta-batches from two factories `labeled(size, start)` and
    `generated(size, start)`, each giving meta-batches of `size` tasks from its own
    meta-batch number `start` on."""
    if not config.uses_generated:
        return labeled(meta_batch, start)
    if not config.uses_labeled:
        return generated(meta_batch, start)
    if config.strategy == "batch":
        k = labeled_per_batch(config, meta_batch)
        both = tf.data.Dataset.zip((labeled(k, start), generated(meta_batch - k, start)))
        return both.map(lambda a, b: tuple(tf.concat([x, y], 0) for x, y in zip(a, b)))
    labeled_start = int(labeled_before(start, config))
    choice = tf.data.Dataset.counter(start).map(
        lambda s: tf.cast(tf.logical_not(is_labeled(s, config)), tf.int64))
    return tf.data.Dataset.choose_from_datasets(
        [labeled(meta_batch, labeled_start), generated(meta_batch, start - labeled_start)], choice)

