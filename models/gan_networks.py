"""LASIUM's generator and discriminator networks, one builder pair per data set.

The generator maps a latent vector to an image in [0, 1] of the data set's size; the
discriminator maps an image to `num_outputs` logits (1 for a plain GAN).
"""
import dataclasses
from typing import Callable

from tensorflow import keras
from tensorflow.keras import layers

from models import fast_layers

# The Omniglot generator's last convolution is models/fast_layers.py's Conv2D: Keras's
# variables and function, several times faster on CPU, which makes the GAN's training step
# about 1.4x faster. (Mini-ImageNet's last layer gains 2x too, but is too small a part of
# its step to show.) False builds Keras's own layer, which benchmarks compare against.
FAST_LAYERS = True


def _lrelu():
    return layers.LeakyReLU(0.2)


def omniglot_generator(latent_dim: int) -> keras.Model:
    conv2d = fast_layers.Conv2D if FAST_LAYERS else layers.Conv2D
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(7 * 7 * 128), _lrelu(), layers.Reshape((7, 7, 128)),
        layers.Conv2DTranspose(128, 4, strides=2, padding="same"), _lrelu(),
        layers.Conv2DTranspose(128, 4, strides=2, padding="same"), _lrelu(),
        conv2d(1, 7, padding="same", activation="sigmoid", dtype="float32"),
    ], name="generator")


def omniglot_discriminator(num_outputs: int = 1) -> keras.Model:
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(64, 3, strides=2, padding="same"), _lrelu(),
        layers.Conv2D(128, 3, strides=2, padding="same"), _lrelu(),
        layers.Conv2D(128, 3, strides=2, padding="same"), _lrelu(),
        layers.GlobalMaxPooling2D(), layers.Dense(num_outputs, dtype="float32"),
    ], name="discriminator")


def mini_imagenet_generator(latent_dim: int) -> keras.Model:
    blocks = []
    for stride in (3, 2, 2, 1, 1):  # 7 -> 21 -> 42 -> 84 -> 84 -> 84
        blocks += [layers.Conv2DTranspose(64, 4, strides=stride, padding="same", use_bias=False),
                   layers.BatchNormalization(), _lrelu()]
    return keras.Sequential([
        keras.Input((latent_dim,)),
        layers.Dense(7 * 7 * 64), _lrelu(), layers.Reshape((7, 7, 64)),
        *blocks,
        layers.Conv2D(3, 4, padding="same", activation="sigmoid", dtype="float32"),
    ], name="generator")


def mini_imagenet_discriminator(num_outputs: int = 1) -> keras.Model:
    blocks = []
    for _ in range(5):
        blocks += [layers.Conv2D(64, 4, strides=2, padding="same", use_bias=False),
                   layers.BatchNormalization(), _lrelu()]
    return keras.Sequential([keras.Input((84, 84, 3)), *blocks,
                             layers.GlobalMaxPooling2D(), layers.Dense(num_outputs, dtype="float32")],
                            name="discriminator")


@dataclasses.dataclass(frozen=True)
class GANArchitecture:
    latent_dim: int
    generator: Callable[[int], keras.Model]
    discriminator: Callable[..., keras.Model]


ARCHITECTURES = {
    "omniglot": GANArchitecture(128, omniglot_generator, omniglot_discriminator),
    "mini_imagenet": GANArchitecture(512, mini_imagenet_generator, mini_imagenet_discriminator),
}
