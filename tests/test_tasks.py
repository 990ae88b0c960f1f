import numpy as np
import pytest
import tensorflow as tf

from tasks.labeled import TaskSampler, TaskShape, meta_batches, task_stream


def indexed_images(labels):
    """Images that carry their own index in two pixels, so tests can trace them."""
    images = np.zeros((len(labels), 4, 4, 1), np.uint8)
    images[:, 0, 0, 0] = np.arange(len(labels)) % 256
    images[:, 0, 1, 0] = np.arange(len(labels)) // 256
    return images


def decode(batch):
    x = np.rint(np.asarray(batch) * 255).astype(int)
    return x[..., 0, 0, 0] + 256 * x[..., 0, 1, 0]


# Unequal class sizes (as the `random` label scheme produces) and shuffled order.
LABELS = np.random.default_rng(0).permutation(np.concatenate([np.full(6 + c % 5, c) for c in range(12)]))
SHAPE = TaskShape(n_way=5, k_shot=2, n_query=3)


def sampler():
    return TaskSampler(indexed_images(LABELS), LABELS, SHAPE, "test")


def test_meta_batch_shapes_and_dtype():
    support, query = next(iter(meta_batches(task_stream(sampler(), seed=1), meta_batch=4)))
    assert support.shape == (4, 5, 2, 4, 4, 1) and query.shape == (4, 5, 3, 4, 4, 1)
    assert support.dtype == tf.float32
    assert 0.0 <= float(tf.reduce_min(support)) and float(tf.reduce_max(support)) <= 1.0


def test_tasks_have_distinct_classes_class_major_rows_and_disjoint_sets():
    for support, query in task_stream(sampler(), seed=2, count=200):
        s, q = decode(support), decode(query)
        classes = LABELS[s[:, 0]]
        assert len(set(classes)) == 5
        for n in range(5):  # every image of row n belongs to the row's class
            assert set(LABELS[s[n]]) == set(LABELS[q[n]]) == {classes[n]}
        all_images = np.concatenate([s.ravel(), q.ravel()])
        assert len(set(all_images)) == all_images.size  # support and query disjoint


def test_every_class_and_image_gets_sampled():
    seen = np.concatenate([np.concatenate([decode(s).ravel(), decode(q).ravel()])
                           for s, q in task_stream(sampler(), seed=3, count=300)])
    assert set(seen) == set(range(len(LABELS)))


def test_stream_is_a_function_of_seed_and_index():
    a = [decode(s) for s, _ in task_stream(sampler(), seed=5, count=6)]
    b = [decode(s) for s, _ in task_stream(sampler(), seed=5, count=6)]
    resumed = [decode(s) for s, _ in task_stream(sampler(), seed=5, start=3, count=3)]
    other = [decode(s) for s, _ in task_stream(sampler(), seed=6, count=6)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert all(np.array_equal(x, y) for x, y in zip(a[3:], resumed))
    assert not all(np.array_equal(x, y) for x, y in zip(a, other))


def test_too_few_classes_or_images_is_a_clear_error():
    with pytest.raises(ValueError, match="--n_way"):
        TaskSampler(indexed_images(LABELS), LABELS, TaskShape(13, 1, 1), "test")
    with pytest.raises(ValueError, match="--k_shot"):
        TaskSampler(indexed_images(LABELS), LABELS, TaskShape(5, 3, 4), "test")
