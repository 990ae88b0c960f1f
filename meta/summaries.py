"""TensorBoard helpers."""
import tensorflow as tf


def image_rows(images):
    """(N, M, H, W, C) -> (N*H, M*W, C): N rows of M images each."""
    n, m, h, w, c = images.shape
    return tf.reshape(tf.transpose(images, [0, 2, 1, 3, 4]), [n * h, m * w, c])


def task_grid(support, query, gap: int = 2):
    """One task as a (1, height, width, C) image: a row per class, its support images,
    a white gap, then its query images. Inputs (N, K|Q, H, W, C) in [0, 1]."""
    left, right = image_rows(support), image_rows(query)
    separator = tf.ones([left.shape[0], gap, left.shape[2]], left.dtype)
    return tf.concat([left, separator, right], axis=1)[None]
