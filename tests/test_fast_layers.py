import numpy as np
import pytest
import tensorflow as tf
from tensorflow import keras

from models import fast_layers, gan_networks


def outputs_and_gradients(layer, x):
    """The layer's output on x, and the gradients of a fixed random projection of it with
    respect to x and to every weight."""
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
        loss = tf.reduce_sum(y * tf.random.stateless_normal(tf.shape(y), [1, 2]))
    return [y, *tape.gradient(loss, [x, *layer.trainable_weights])]


def assert_close(a, b):
    scale = float(np.abs(b).max())
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("filters, kernel, shape", [
    (1, 7, (2, 28, 28, 128)),  # the Omniglot generator's last layer
    (3, 4, (2, 9, 8, 5)),  # an even kernel: "same" pads one less before than after
    (2, 5, (3, 6, 11, 4)),
])
def test_conv2d_equals_keras(filters, kernel, shape):
    x = tf.random.stateless_normal(shape, [0, 1])
    keras_layer = keras.layers.Conv2D(filters, kernel, padding="same", activation="sigmoid")
    fast = fast_layers.Conv2D(filters, kernel, padding="same", activation="sigmoid")
    keras_layer.build(shape)
    fast.build(shape)
    assert fast.name.startswith("conv2d")  # Keras's own layer name, so its variables' names
    assert [(w.name.split("/")[-1], w.shape) for w in fast.weights] == [
        (w.name.split("/")[-1], w.shape) for w in keras_layer.weights]
    keras_layer.set_weights([tf.random.stateless_normal(w.shape, [2, i]).numpy() * 0.1
                             for i, w in enumerate(keras_layer.weights)])
    fast.set_weights(keras_layer.get_weights())
    for a, b in zip(outputs_and_gradients(fast, x), outputs_and_gradients(keras_layer, x)):
        assert a.shape == b.shape
        assert_close(a.numpy(), b.numpy())


def test_conv2d_refuses_what_it_does_not_compute():
    for kwargs in (dict(strides=2), dict(padding="valid"), dict(dilation_rate=2)):
        with pytest.raises(ValueError, match="fast_layers.Conv2D"):
            fast_layers.Conv2D(1, 3, **{"padding": "same", **kwargs})


def omniglot_generators(monkeypatch):
    """The Omniglot generator built with Keras's layers and with the fast ones."""
    monkeypatch.setattr(gan_networks, "FAST_LAYERS", False)
    plain = gan_networks.omniglot_generator(16)
    monkeypatch.setattr(gan_networks, "FAST_LAYERS", True)
    fast = gan_networks.omniglot_generator(16)
    assert isinstance(fast.layers[-1], fast_layers.Conv2D)
    assert not isinstance(plain.layers[-1], fast_layers.Conv2D)
    return plain, fast


def test_generator_variables_are_keras_ones(monkeypatch):
    keras.backend.clear_session()  # layer names count from here: the same for both builds
    fast = [(w.name, tuple(w.shape)) for w in gan_networks.omniglot_generator(16).weights]
    keras.backend.clear_session()
    monkeypatch.setattr(gan_networks, "FAST_LAYERS", False)
    plain = [(w.name, tuple(w.shape)) for w in gan_networks.omniglot_generator(16).weights]
    assert fast == plain
    assert fast[-2:] == [("conv2d/kernel:0", (7, 7, 128, 1)), ("conv2d/bias:0", (1,))]


def test_generator_checkpoint_of_keras_layers_loads_and_computes_the_same(monkeypatch, tmp_path):
    plain, fast = omniglot_generators(monkeypatch)
    path = tf.train.Checkpoint(generator=plain).write(str(tmp_path / "generator"))
    tf.train.Checkpoint(generator=fast).read(path).assert_consumed()
    for a, b in zip(plain.weights, fast.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    z = tf.random.stateless_normal([4, 16], [3, 4])
    for a, b in zip(outputs_and_gradients(fast, z), outputs_and_gradients(plain, z)):
        assert_close(a.numpy(), b.numpy())
