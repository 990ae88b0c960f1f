"""Small synthetic data for the tests of tasks/ and meta/."""
import types

import numpy as np
import tensorflow as tf

from databases import Split


def split(num_classes, per_class, shape=(28, 28, 1), seed=0, offset=0):
    """Learnable classes: a random prototype per class, plus a little noise per image."""
    rng = np.random.default_rng(seed)
    prototypes = rng.random((num_classes, *shape))
    noise = rng.normal(0, 0.1, (num_classes, per_class, *shape))
    images = np.clip(prototypes[:, None] + noise, 0, 1).reshape(-1, *shape)
    labels = np.repeat(np.arange(num_classes, dtype=np.int32), per_class)
    names = tuple(f"class{offset + c}" for c in range(num_classes))
    return Split((images * 255).round().astype(np.uint8), labels, names)


def database(train=(20, 10), val=(6, 20), test=(6, 20), shape=(28, 28, 1)):
    """A stand-in for `databases.Database` with (classes, images per class) per split."""
    return types.SimpleNamespace(
        name="synthetic", image_shape=shape, source="synthetic",
        train=split(*train, shape, seed=1), val=split(*val, shape, seed=2, offset=1000),
        test=split(*test, shape, seed=3, offset=2000))


class FakeGAN:
    """Stands in for a trained GAN where a test needs the task streams, not the images."""
    latent_dim, num_classes = 128, 0  # Omniglot's, which its anchor epsilon is for
    generator = staticmethod(lambda z, training=False: tf.zeros([tf.shape(z)[0], 28, 28, 1]))
