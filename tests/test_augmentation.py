import numpy as np
import pytest
import tensorflow as tf

from tasks.augmentation import QueryShift, random_shift, with_shifted_queries

SEED = tf.constant([1, 2], tf.int64)


def translated(image, dx, dy):
    """`image` moved dx pixels right and dy down, uncovered pixels 0."""
    out = np.zeros_like(image)
    h, w = image.shape[:2]
    out[max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        image[max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


@pytest.mark.parametrize("shift, bound", [(QueryShift("integer", 5), (5, 5)),
                                          (QueryShift("integer", 0.25), (6, 4))])
def test_integer_shift_moves_each_image_by_whole_pixels_within_the_bound(shift, bound):
    images = np.random.default_rng(0).random((40, 16, 24, 3)).astype(np.float32)  # H 16, W 24
    shifted = random_shift(tf.constant(images), SEED, shift).numpy()
    offsets = []
    for image, out in zip(images, shifted):
        found = [(dx, dy) for dx in range(-8, 9) for dy in range(-8, 9)
                 if np.array_equal(translated(image, dx, dy), out)]
        assert len(found) == 1, "not a whole-pixel translation with background fill"
        offsets.append(found[0])
    dx, dy = np.array(offsets).T
    assert -bound[0] <= dx.min() and dx.max() < bound[0] and -bound[1] <= dy.min() and dy.max() < bound[1]
    assert len(set(offsets)) > 10  # each image its own offset
    assert dx.min() < 0 < dx.max() and dy.min() < 0 < dy.max()


@pytest.mark.parametrize("channels", [1, 3])
def test_bilinear_shift_moves_each_image_within_a_fraction_of_its_size(channels):
    images = np.zeros((6, 20, 20, channels), np.float32)
    images[:, 8:12, 8:12] = 1.0
    shifted = random_shift(tf.constant(images), SEED, QueryShift("bilinear", 0.2)).numpy()
    assert shifted.shape == images.shape
    centers = [np.argwhere(x[..., 0] > 0.5).mean(0) for x in shifted]
    assert all(np.abs(c - 9.5).max() <= 4.01 for c in centers)  # at most 20% of 20 px
    assert len({tuple(np.round(c, 1)) for c in centers}) > 1  # each image its own shift


def test_shifted_stream_keeps_support_and_resumes_exactly():
    rng = np.random.default_rng(1)
    batches = tf.data.Dataset.from_tensor_slices(
        (rng.random((5, 2, 3, 1, 28, 28, 1), np.float32), rng.random((5, 2, 3, 2, 28, 28, 1), np.float32)))
    shifted = list(with_shifted_queries(batches, 7, QueryShift()))
    for (support, query), (s, q) in zip(batches, shifted):
        np.testing.assert_array_equal(support, s)
        assert not np.array_equal(query, q)
    resumed = next(iter(with_shifted_queries(batches.skip(3), 7, QueryShift(), start=3)))
    for a, b in zip(shifted[3], resumed):
        np.testing.assert_array_equal(a, b)


def test_bad_shifts_are_refused():
    with pytest.raises(ValueError, match="--query_shift="):
        QueryShift("nearest")
    with pytest.raises(ValueError, match="--query_shift_max"):
        QueryShift("integer", 0.0)
