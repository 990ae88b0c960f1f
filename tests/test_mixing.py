import numpy as np
import pytest
import tensorflow as tf

from tasks.mixing import MixConfig, is_labeled, labeled_before, mixed_stream, task_weights


def tagged(tag):
    """A stream factory whose task t of meta-batch i carries (tag, i, t) in its images."""
    def factory(size, start):
        def batch(i):
            t = tf.cast(tf.range(size), tf.float32)
            marks = tf.stack([tf.fill([size], float(tag)), tf.fill([size], tf.cast(i, tf.float32)), t], 1)
            return marks[:, None, None, :], marks[:, None, None, :]  # (size, 1, 1, 3) x 2
        return tf.data.Dataset.counter(start).map(batch)
    return factory


def draw(config, steps, meta_batch=4, start=0):
    stream = mixed_stream(tagged(1), tagged(0), config, meta_batch, start)
    return [s.numpy()[:, 0, 0] for s, _ in stream.take(steps)]


@pytest.mark.parametrize("share", [0.0, 0.01, 0.05, 0.2, 1 / 3, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("block", [1, 3, 20])
def test_alternate_ratio_is_exact(share, block):
    config = MixConfig("alternate", share, block=block)
    flags = is_labeled(tf.range(2000, dtype=tf.int64), config).numpy()
    blocks = 2000 // block
    assert flags[:blocks * block].sum() == np.floor(blocks * share) * block
    for b in range(blocks):  # whole blocks
        assert len(set(flags[b * block:(b + 1) * block])) == 1


@pytest.mark.parametrize("share", [0.25, 0.5, 0.75])
def test_batch_mix_holds_the_share_in_every_meta_batch(share):
    for batch in draw(MixConfig("batch", share), 20):
        assert batch[:, 0].sum() == share * 4 and (np.diff(batch[:, 0]) <= 0).all()


@pytest.mark.parametrize("share", [0.25, 0.5, 0.75])
def test_generated_weight_falls_on_the_generated_tasks(share):
    config = MixConfig("batch", share)
    weights = np.array(task_weights(config, 4, 0.3))
    for batch in draw(config, 3):
        np.testing.assert_array_equal(weights == 1.0, batch[:, 0] == 1)
    assert task_weights(config, 4, 1.0) is None  # equal weights: the plain mean
    assert task_weights(MixConfig("batch", 1.0), 4, 0.3) is None  # nothing to weigh
    with pytest.raises(ValueError, match="--mix=batch"):
        task_weights(MixConfig("schedule", share), 4, 0.3)


def test_batch_mix_with_a_fractional_count_is_refused():
    with pytest.raises(ValueError, match="whole"):
        draw(MixConfig("batch", 0.1), 1)


def test_schedule_share_grows_and_totals_exactly():
    config = MixConfig("schedule", 0.8, share_start=0.0, iterations=1000)
    flags = is_labeled(tf.range(1000, dtype=tf.int64), config).numpy()
    assert flags[:100].mean() < 0.1 and flags[-100:].mean() > 0.7
    # sum over steps i < 1000 of 0.8 * i / 1000 = 399.6
    assert flags.sum() == int(labeled_before(1000, config).numpy()) == 399


@pytest.mark.parametrize("config", [MixConfig("alternate", 0.3, block=2), MixConfig("batch", 0.5),
                                    MixConfig("schedule", 0.6, iterations=30)])
def test_resumed_stream_continues_the_same_sequence(config):
    whole = draw(config, 30)
    resumed = draw(config, 13, start=17)
    for a, b in zip(whole[17:], resumed):
        np.testing.assert_array_equal(a, b)
    # Each stream's meta-batches are consumed in order, none skipped or repeated.
    for tag in (0, 1):
        seen = [int(batch[batch[:, 0] == tag][0, 1]) for batch in whole if tag in batch[:, 0]]
        assert seen == list(range(len(seen)))


def test_share_zero_gives_no_labeled_and_one_no_generated():
    for strategy in ("alternate", "batch", "schedule"):
        assert all((b[:, 0] == 0).all() for b in draw(MixConfig(strategy, 0.0), 10))
        assert all((b[:, 0] == 1).all() for b in draw(
            MixConfig(strategy, 1.0, share_start=1.0), 10))
