import numpy as np
import pytest
import tensorflow as tf

from meta.maml import MAML, InnerLoop
from meta.meta_learner import task_labels
from models.classifier import OMNIGLOT, ConvNet
from util import TINY, tiny_task


def maml_for(model, steps=1, lr=0.5, optimizer=None, **kwargs):
    return MAML(model, optimizer or tf.keras.optimizers.SGD(0.1), InnerLoop(steps, lr), **kwargs)


def meta_gradient(maml, support, query, second_order):
    weights = maml.model.trainable_weights
    with tf.GradientTape() as tape:
        loss, _ = maml.query_loss(weights, support, query, maml.train_loop, second_order)
    return loss, tape.gradient(loss, weights)


def relative_error(a, b):
    a = np.concatenate([np.ravel(x) for x in a])
    b = np.concatenate([np.ravel(x) for x in b])
    return np.linalg.norm(a - b) / np.linalg.norm(b)


def test_labels_are_class_major():
    assert task_labels(3, 2).numpy().tolist() == [0, 0, 1, 1, 2, 2]


def test_one_inner_step_is_one_sgd_step():
    model = ConvNet(TINY, 3, seed=1)
    support, _ = tiny_task()
    x = tf.reshape(support, [-1, 8, 8, 1])
    y = tf.constant([0, 0, 1, 1, 2, 2])
    with tf.GradientTape() as tape:
        logits = model(x)
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(y, logits, True))
    grads = tape.gradient(loss, model.trainable_weights)
    expected = [w - 0.3 * g for w, g in zip(model.trainable_weights, grads)]
    adapted = maml_for(model).adapt(model.trainable_weights, support, InnerLoop(1, 0.3), True)
    for a, e in zip(adapted, expected):
        np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


def test_second_order_matches_finite_differences():
    model = ConvNet(TINY, 3, seed=2, dtype=tf.float64)
    maml = maml_for(model, steps=2, lr=0.5)
    support, query = tiny_task(dtype=np.float64)
    _, grads = meta_gradient(maml, support, query, second_order=True)
    rng = np.random.default_rng(0)
    eps = 1e-6
    for w, g in zip(model.trainable_weights, grads):
        flat = w.numpy().ravel()
        for i in rng.choice(flat.size, size=min(3, flat.size), replace=False):
            values = []
            for sign in (1, -1):
                shifted = flat.copy()
                shifted[i] += sign * eps
                w.assign(shifted.reshape(w.shape))
                loss, _ = maml.query_loss(model.trainable_weights, support, query,
                                          maml.train_loop, True)
                values.append(float(loss))
            w.assign(flat.reshape(w.shape))
            numeric = (values[0] - values[1]) / (2 * eps)
            assert abs(numeric - g.numpy().ravel()[i]) < 1e-6 + 1e-5 * abs(numeric)


def test_first_order_differs_from_second_order():
    model = ConvNet(TINY, 3, seed=3, dtype=tf.float64)
    maml = maml_for(model, steps=2, lr=0.5)
    support, query = tiny_task(dtype=np.float64)
    _, second = meta_gradient(maml, support, query, second_order=True)
    _, first = meta_gradient(maml, support, query, second_order=False)
    assert 1e-3 < relative_error(first, second) < 1.0


def test_real_network_second_order_gradient_matches_float64_reference():
    """Fused batch norm in float32 against hand-written batch norm in float64."""
    model32 = ConvNet(OMNIGLOT, 5, seed=4)
    model64 = ConvNet(OMNIGLOT, 5, seed=4, dtype=tf.float64)
    for w64, w32 in zip(model64.trainable_weights, model32.trainable_weights):
        w64.assign(tf.cast(w32, tf.float64))
    support, query = tiny_task(n=5, k=1, q=5, shape=(28, 28, 1), seed=5)
    kwargs = dict(steps=5, lr=0.4)
    _, g32 = meta_gradient(maml_for(model32, **kwargs), support, query, second_order=True)
    _, g64 = meta_gradient(maml_for(model64, **kwargs), tf.cast(support, tf.float64),
                           tf.cast(query, tf.float64), second_order=True)
    assert relative_error(g32, g64) < 1e-3
    _, f64 = meta_gradient(maml_for(model64, **kwargs), tf.cast(support, tf.float64),
                           tf.cast(query, tf.float64), second_order=False)
    assert relative_error(f64, g64) > 1e-2  # the check can tell the two apart


@pytest.mark.parametrize("task_weights", [None, (1.0, 0.25)])
def test_train_step_applies_the_weighted_mean_meta_gradient_of_the_batch(task_weights):
    model = ConvNet(TINY, 3, seed=6)
    maml = maml_for(model, steps=1, lr=0.5, optimizer=tf.keras.optimizers.SGD(1.0),
                    task_weights=task_weights)
    tasks = [tiny_task(seed=s) for s in range(2)]
    before = [w.numpy() for w in model.trainable_weights]
    grads = [meta_gradient(maml, s, q, True)[1] for s, q in tasks]
    w0, w1 = task_weights or (1.0, 1.0)
    expected = [b - (w0 * g0 + w1 * g1) / (w0 + w1) for b, g0, g1 in zip(before, *grads)]
    maml.train_step(tf.stack([t[0] for t in tasks]), tf.stack([t[1] for t in tasks]))
    for w, e in zip(model.trainable_weights, expected):
        np.testing.assert_allclose(w.numpy(), e, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("clip", [0.0, 1e-3])
def test_gradient_clipping_is_applied(clip):
    model = ConvNet(TINY, 3, seed=7)
    maml = maml_for(model, optimizer=tf.keras.optimizers.SGD(1.0), clip_norm=clip)
    support, query = tiny_task()
    before = [w.numpy() for w in model.trainable_weights]
    _, _, norm = maml.train_step(support[None], query[None])
    change = np.sqrt(sum(np.sum((w.numpy() - b) ** 2) for w, b in zip(model.trainable_weights, before)))
    assert float(norm) > 1e-2
    np.testing.assert_allclose(change, clip if clip else float(norm), rtol=1e-3)


def test_evaluation_adapts_without_changing_the_model():
    model = ConvNet(TINY, 3, seed=8)
    maml = maml_for(model)
    before = [w.numpy() for w in model.trainable_weights]
    support, query = tiny_task()
    tasks = tf.data.Dataset.from_tensors((support, query)).repeat(3)
    accuracies = maml.evaluate(tasks, InnerLoop(10, 0.5))
    assert len(accuracies) == 3 and all(0.0 <= a <= 1.0 for a in accuracies)
    assert all(np.array_equal(w.numpy(), b) for w, b in zip(model.trainable_weights, before))
    # The graph loop of evaluation adapts exactly as the unrolled training loop does.
    fast = maml.adapt(model.trainable_weights, support, InnerLoop(10, 0.5), False)
    logits = model.forward(fast, tf.reshape(query, [-1, 8, 8, 1]))
    expected = np.mean(np.argmax(logits, -1) == task_labels(3, 2).numpy())
    assert accuracies[0] == pytest.approx(expected)
    untrained = maml.evaluate(tasks.take(1), InnerLoop(0, 0.5))[0]
    assert untrained != accuracies[0]


def test_xla_step_matches_the_plain_step():
    support, query = tiny_task()
    results = []
    for xla in (False, True):
        model = ConvNet(TINY, 3, seed=9)
        before = [w.numpy() for w in model.trainable_weights]
        maml = maml_for(model, steps=2, lr=0.4, jit_compile=xla)
        loss, _, _ = maml.train_step(support[None], query[None])
        results.append((float(loss), [w.numpy() - b for w, b in zip(model.trainable_weights, before)]))
    assert results[0][0] == pytest.approx(results[1][0], rel=1e-5)
    # XLA fuses differently, so the updates agree to float rounding, not bit for bit.
    assert relative_error(results[1][1], results[0][1]) < 1e-3
