"""LASIUM's conv4 classifiers, written so MAML can run them on fast weights.

`ConvNet` is a `keras.Model` that owns the meta-parameters (so checkpoints, optimizers
and distribution strategies treat it like any Keras model), and `ConvNet.forward` is
the same network as a pure function of an explicit weight list, which the MAML inner
loop calls with adapted ("fast") weights.

Batch norm: ``transductive`` (the default, as LASIUM and MAML) normalizes every batch
with its own statistics, at training and at evaluation alike: a task's support set is
normalized by support statistics and its query set by query statistics. No running
averages exist. ``none`` removes the normalization (scale and offset remain).

The float32 path uses fused batch norm: it is exact, ~20% faster than a hand-written
one, and its second derivative is correct. The hand-written path (used for float64,
which the fused kernel lacks) computes the variance as mean((x - mean)^2) so that the
gradient flows through the mean; `tf.nn.moments` stops that gradient and gives wrong
second-order MAML gradients.
"""
import dataclasses

import tensorflow as tf
from tensorflow import keras

BATCH_NORM_MODES = ("transductive", "none")
_EPSILON = 1e-3


@dataclasses.dataclass(frozen=True)
class ConvNetConfig:
    filters: int
    strided: bool  # True: stride-2 convs + global mean (Omniglot); False: max-pool + flatten.
    image_shape: tuple


OMNIGLOT = ConvNetConfig(filters=64, strided=True, image_shape=(28, 28, 1))
MINI_IMAGENET = ConvNetConfig(filters=32, strided=False, image_shape=(84, 84, 3))
CONFIGS = {"omniglot": OMNIGLOT, "mini_imagenet": MINI_IMAGENET}


def batch_norm(x, gamma, beta, mode: str):
    if mode == "none":
        return x * gamma + beta
    if x.dtype == tf.float32:
        y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, epsilon=_EPSILON,
                                                    is_training=True)
        return y
    mean = tf.reduce_mean(x, axis=[0, 1, 2], keepdims=True)
    variance = tf.reduce_mean(tf.square(x - mean), axis=[0, 1, 2], keepdims=True)
    return (x - mean) * tf.math.rsqrt(variance + _EPSILON) * gamma + beta


class ConvNet(keras.Model):
    """Four [conv3x3 -> batch norm -> ReLU (-> max-pool)] blocks and a dense head."""

    def __init__(self, config: ConvNetConfig, num_outputs: int, batch_norm_mode: str = "transductive",
                 seed: int = 0, dtype=tf.float32):
        super().__init__(dtype=dtype)
        if batch_norm_mode not in BATCH_NORM_MODES:
            raise ValueError(f"--batch_norm={batch_norm_mode!r} is not one of {BATCH_NORM_MODES}.")
        self.config, self.batch_norm_mode = config, batch_norm_mode
        init = lambda i: keras.initializers.GlorotUniform(seed=seed * 100 + i)  # noqa: E731
        channels = config.image_shape[-1]
        for block in range(4):
            # No conv bias: batch norm's offset takes its place.
            self._weight(f"conv{block}/kernel", (3, 3, channels, config.filters), init(block))
            self._weight(f"bn{block}/gamma", (config.filters,), "ones")
            self._weight(f"bn{block}/beta", (config.filters,), "zeros")
            channels = config.filters
        self._weight("dense/kernel", (self._features(), num_outputs), init(4))
        self._weight("dense/bias", (num_outputs,), "zeros")

    def _weight(self, name, shape, initializer):
        self.add_weight(name=name, shape=shape, initializer=initializer, dtype=self.dtype)

    def _features(self) -> int:
        if self.config.strided:
            return self.config.filters
        side = self.config.image_shape[0]
        for _ in range(4):
            side //= 2
        return side * side * self.config.filters

    def call(self, images):
        return self.forward(self.trainable_weights, images)

    def forward(self, weights, images):
        """Logits of `images` under `weights`, a list in `trainable_weights` order."""
        kernel, bias = weights[-2:]
        return tf.matmul(self.embed(weights, images), kernel) + bias

    def embed(self, weights, images):
        """The features the dense head reads (prototypical networks' embedding); `weights`
        as for `forward` (the head's two, at the end, are not read)."""
        x = images
        for block in range(4):
            kernel, gamma, beta = weights[3 * block:3 * block + 3]
            stride = 2 if self.config.strided else 1
            x = tf.nn.conv2d(x, kernel, strides=stride, padding="SAME")
            x = tf.nn.relu(batch_norm(x, gamma, beta, self.batch_norm_mode))
            if not self.config.strided:
                x = tf.nn.max_pool2d(x, 2, 2, padding="VALID")
        if self.config.strided:
            return tf.reduce_mean(x, axis=[1, 2])
        return tf.reshape(x, [tf.shape(x)[0], -1])

    @property
    def embedding_weights(self):
        """The trainable weights `embed` reads: all but the head's."""
        return self.trainable_weights[:-2]
