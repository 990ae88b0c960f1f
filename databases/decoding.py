"""Batch decoding of encoded images (PNG/JPEG bytes) into one preallocated uint8 array."""
from typing import Callable, Sequence, Tuple

import numpy as np
import tensorflow as tf

from databases.base import PathLike

_BATCH_SIZE = 1024


def decode_all(encoded: Sequence[bytes], decode_fn: Callable[[tf.Tensor], tf.Tensor],
               image_shape: Tuple[int, ...], source: PathLike) -> np.ndarray:
    """Decodes every item of `encoded` with `decode_fn`, which must return uint8 `image_shape`.

    Decoding runs in a parallel tf.data pipeline; results go straight into a uint8 array,
    so memory stays at one uint8 copy of the data set (never a float copy of everything).
    """
    images = np.empty((len(encoded), *image_shape), np.uint8)
    if not len(encoded):
        return images

    def decode(data):
        return tf.ensure_shape(decode_fn(data), image_shape)

    dataset = (tf.data.Dataset.from_tensor_slices(tf.constant(encoded, tf.string))
               .map(decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
               .batch(_BATCH_SIZE)
               .prefetch(2))
    count = 0
    try:
        for batch in dataset.as_numpy_iterator():
            images[count:count + len(batch)] = batch
            count += len(batch)
    except tf.errors.OpError as error:
        raise ValueError(
            f"Cannot decode the images of {source} (near image {count}): {error.message}. "
            "The data look corrupt; re-create them with `python -m databases.prepare`.") from error
    if count != len(images):
        raise ValueError(f"{source}: decoded {count} images, expected {len(images)}.")
    return images


def to_uint8(image: tf.Tensor) -> tf.Tensor:
    """Rounds a float image in [0, 255] to uint8 (round-to-nearest, not truncation)."""
    return tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)
