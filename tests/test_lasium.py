import numpy as np
import pytest
import tensorflow as tf

from tasks.labeled import TaskSampler, TaskShape, meta_batches, task_stream
from tasks.augmentation import QueryShift
from tasks.lasium import SAMPLERS, GeneratedTasks, LasiumConfig, generated_stream, sample_latents

DIM = 64


def latents(sampler, n=5, members=6, seed=(1, 2), **kwargs):
    anchors, z = sample_latents(tf.constant(seed, tf.int64), n, members, DIM,
                                LasiumConfig(sampler, **kwargs))
    assert anchors.shape == (n, DIM) and z.shape == (n, members, DIM)
    return anchors.numpy(), z.numpy()


@pytest.mark.parametrize("n", [2, 5, 9])
def test_lasium_n_adds_gaussian_noise_of_sigma(n):
    anchors, z = latents("n", n=n, members=40, sigma=0.5)
    noise = z - anchors[:, None]
    assert abs(noise.mean()) < 0.02 and noise.std() == pytest.approx(0.5, rel=0.03)
    assert abs(anchors.std() - 1.0) < 0.1 + 0.5 / np.sqrt(n)


@pytest.mark.parametrize("n", [2, 5, 9])
def test_lasium_ro_interpolates_toward_fresh_random_vectors(n):
    anchors, z = latents("ro", n=n, members=40, ro_alpha=0.2)
    targets = anchors[:, None] + (z - anchors[:, None]) / 0.2  # the endpoints e
    assert abs(targets.mean()) < 0.02 and targets.std() == pytest.approx(1.0, rel=0.03)
    # A fresh e per member: no two members share an endpoint.
    flat = targets.reshape(-1, DIM)
    distances = np.linalg.norm(flat[:, None] - flat[None], axis=-1) + np.eye(len(flat)) * 1e9
    assert distances.min() > 1.0


@pytest.mark.parametrize("n", [2, 3, 5, 9])
def test_lasium_oc_interpolates_toward_another_anchor_of_the_task(n):
    anchors, z = latents("oc", n=n, members=12, oc_alpha=0.6)
    chosen = set()
    for c in range(n):
        for member in z[c]:
            endpoint = anchors[c] + (member - anchors[c]) / 0.6
            match = np.flatnonzero(np.abs(anchors - endpoint).max(-1) < 1e-4)
            assert len(match) == 1 and match[0] != c
            chosen.add((c, match[0]))
    assert len(chosen) >= min(n * (n - 1), n + 1)  # not always the same other anchor


def test_draws_are_a_function_of_the_seed():
    a = latents("ro", seed=(3, 4))[1]
    assert np.array_equal(a, latents("ro", seed=(3, 4))[1])
    assert not np.array_equal(a, latents("ro", seed=(3, 5))[1])


def test_anchor_rejection_keeps_anchors_apart():
    # Squared distances between N(0, I) vectors in 64 dims are ~128 +- 23.
    def closest(anchors):
        return (((anchors[:, None] - anchors[None]) ** 2).sum(-1) + np.eye(5) * 1e9).min()

    rejected = 0
    for seed in range(8):
        plain, _ = latents("n", seed=(seed, 0))
        anchors, _ = latents("n", seed=(seed, 0), anchor_epsilon=100.0)
        assert closest(anchors) > 100.0
        rejected += closest(plain) <= 100.0
    assert rejected > 0  # the check saw anchors that needed redrawing
    unreachable = LasiumConfig("n", anchor_epsilon=1e6)
    with pytest.raises(tf.errors.InvalidArgumentError, match="lasium_anchor_epsilon"):
        # In graph mode, as in the task pipeline (10,000 eager draws take far longer).
        tf.function(lambda: sample_latents(tf.constant((1, 2), tf.int64), 5, 6, DIM, unreachable))()


def test_anchor_rejection_reaches_lasiums_omniglot_epsilon():
    # 246.09375 for 5 anchors of 128 dims (LASIUM's Omniglot run) accepts ~4% of draws, so
    # a bound of 100 draws would fail about 7 of these 400 tasks.
    config = LasiumConfig("n", anchor_epsilon=246.09375)
    anchors_of = tf.function(lambda seed: sample_latents(seed, 5, 2, 128, config)[0])
    for seed in range(400):
        anchors = anchors_of(tf.constant((seed, 0), tf.int64)).numpy()
        sq = ((anchors[:, None] - anchors[None]) ** 2).sum(-1) + np.eye(5) * 1e9
        assert sq.min() > 246.09375


def constant_generator(latent_dim, shape):
    """A 'generator' whose image encodes the latent's first coordinate, to trace order."""
    def generate(z, training=False):
        return tf.ones([tf.shape(z)[0], *shape]) * tf.sigmoid(z[:, :1, None, None])
    generate.latent_dim = latent_dim
    return generate


def test_generated_meta_batches_match_the_labeled_layout():
    shape = TaskShape(n_way=5, k_shot=1, n_query=3)
    labels = np.repeat(np.arange(10), 6)
    images = np.zeros((60, 28, 28, 1), np.uint8)
    labeled = next(iter(meta_batches(task_stream(TaskSampler(images, labels, shape, "x"), 0), 4)))
    tasks = GeneratedTasks(constant_generator(DIM, (28, 28, 1)), DIM, shape, (28, 28, 1),
                           LasiumConfig("n", sigma=0.01))
    generated = next(iter(generated_stream(tasks, seed=0, meta_batch=4)))
    for a, b in zip(labeled, generated):
        assert a.shape == b.shape and a.dtype == b.dtype
    support, query = (x.numpy()[..., 0, 0, 0] for x in generated)
    # Class-major: every image of row n comes from anchor n (small sigma: near-equal values).
    for t in range(4):
        for n in range(5):
            row = np.concatenate([support[t, n], query[t, n]])
            assert np.ptp(row) < 0.02
        assert np.ptp(support[t, :, 0]) > 0.05  # rows differ: different anchors


def test_generator_output_is_resized_to_the_classifier_input():
    tasks = GeneratedTasks(constant_generator(DIM, (32, 32, 3)), DIM, TaskShape(3, 1, 1),
                           (84, 84, 3), LasiumConfig("ro"))
    support, query = tasks.meta_batch(tf.constant([0, 0], tf.int64), 2)
    assert support.shape == (2, 3, 1, 84, 84, 3) and query.shape == (2, 3, 1, 84, 84, 3)


def test_bad_sampler_is_refused():
    with pytest.raises(ValueError, match="--lasium"):
        LasiumConfig("xy")


@pytest.mark.parametrize("sampler", SAMPLERS)
@pytest.mark.parametrize("k_shot", [1, 2])
def test_anchor_support_makes_the_first_support_image_the_anchors_own(sampler, k_shot):
    shape, size, seed = TaskShape(4, k_shot, 3), 3, tf.constant([5, 6], tf.int64)
    config = LasiumConfig(sampler, anchor_support=True)
    tasks = GeneratedTasks(constant_generator(DIM, (28, 28, 1)), DIM, shape, (28, 28, 1), config)
    support, query = (x.numpy()[..., 0, 0, 0] for x in tasks.meta_batch(seed, size))
    for t, task_seed in enumerate(tf.random.experimental.stateless_split(seed, size)):
        anchors, members = sample_latents(task_seed, 4, shape.per_class, DIM, config)
        np.testing.assert_array_equal(members[:, 0], anchors)  # member 0: the anchor itself
        assert np.abs(members[:, 1:] - anchors[:, None]).min() > 0  # the others near it
        np.testing.assert_allclose(support[t, :, 0], tf.sigmoid(anchors[:, 0]), rtol=1e-6)
        assert not np.allclose(query[t], support[t, :, :1])
    # Without it every member is drawn near the anchor, none is the anchor.
    anchors, members = sample_latents(seed, 4, 3, DIM, LasiumConfig(sampler))
    assert np.abs(members - anchors[:, None]).min() > 0


def test_query_shift_changes_only_the_query_and_resumes_exactly():
    shape = TaskShape(3, 1, 2)
    def generator(z, training=False):  # a centred square whose brightness follows z
        square = np.zeros((1, 28, 28, 1), np.float32)
        square[:, 10:18, 10:18] = 1.0
        return tf.sigmoid(z[:, :1, None, None]) * square
    plain = GeneratedTasks(generator, DIM, shape, (28, 28, 1), LasiumConfig("n"))
    shifted = GeneratedTasks(generator, DIM, shape, (28, 28, 1), LasiumConfig("n"),
                             query_shift=QueryShift("integer", 5))
    seed = tf.constant([5, 6], tf.int64)
    (s1, q1), (s2, q2) = plain.meta_batch(seed, 2), shifted.meta_batch(seed, 2)
    np.testing.assert_array_equal(s1, s2)
    assert q1.shape == q2.shape and not np.allclose(q1, q2)
    # Whole-pixel moves with background fill keep ink or lose it at the border, never add it.
    assert np.all(q2.numpy().sum((-3, -2, -1)) <= q1.numpy().sum((-3, -2, -1)) + 1e-4)
    from_start = list(generated_stream(shifted, seed=3, meta_batch=2).take(3))[2]
    resumed = next(iter(generated_stream(shifted, seed=3, meta_batch=2, start=2)))
    for a, b in zip(from_start, resumed):
        np.testing.assert_array_equal(a, b)
