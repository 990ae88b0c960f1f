"""Random shifts of query images, for training tasks only (never validation or test).

Shifting a task's query images, not its support, asks the inner loop's adaptation to
hold under small displacements: with a generator whose class members are near-copies of
one image, it is what makes a generated task teach more than pixel matching."""
import tensorflow as tf


def random_shift(images, seed, max_fraction: float = 0.1):
    """Shift each image (B, H, W, C), any C, by its own random offset of up to
    `max_fraction` of its size, filling with the nearest edge pixels."""
    b, h, w = tf.shape(images)[0], images.shape[1], images.shape[2]
    limits = tf.constant([w * max_fraction, h * max_fraction])
    shifts = tf.random.stateless_uniform([b, 2], seed, -1.0, 1.0) * limits
    ones, zeros = tf.ones([b, 1]), tf.zeros([b, 1])
    # Projective transforms map output (x, y) to input (x - dx, y - dy).
    transforms = tf.concat([ones, zeros, -shifts[:, :1], zeros, ones, -shifts[:, 1:], zeros, zeros], 1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images, transforms=transforms, output_shape=[h, w], fill_value=0.0,
        interpolation="BILINEAR", fill_mode="NEAREST")


def shift_queries(query, seed):
    """`random_shift` of every image of a (..., H, W, C) stack of query images."""
    image_shape = query.shape[-3:]
    shifted = random_shift(tf.reshape(query, [-1, *image_shape]), seed)
    return tf.reshape(shifted, tf.shape(query))


def with_shifted_queries(batches: tf.data.Dataset, seed: int, start: int = 0):
    """A stream of (support, query) meta-batches, numbered from `start`, with meta-batch
    i's queries shifted by the stateless seed (seed, i): a resumed stream shifts exactly
    as an uninterrupted one."""
    seed = tf.constant(seed, tf.int64)
    numbered = tf.data.Dataset.zip((tf.data.Dataset.counter(start), batches))
    return numbered.map(lambda i, batch: (batch[0], shift_queries(batch[1], tf.stack([seed, i]))))
