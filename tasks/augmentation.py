"""Random shifts of query images, for training tasks only (never validation or test).

Shifting a task's query images, not its support, asks the inner loop's adaptation to
hold under small displacements: with a generator whose class members are near-copies of
one image, it is what makes a generated task teach more than pixel matching. Two kinds:

* ``integer`` (LASIUM's Omniglot recipe): each image moves by its own whole-pixel offset,
  dx and dy each uniform in [-m, m), nearest neighbour, uncovered pixels set to 0 (the
  background of Omniglot, where ink is 1);
* ``bilinear`` (this project's first shift): dx and dy uniform in (-m, m), bilinear, the
  uncovered border filled with the nearest edge pixels.
"""
import dataclasses
import warnings

import tensorflow as tf

with warnings.catch_warnings():  # its end-of-development notice, printed on every import
    warnings.simplefilter("ignore", UserWarning)
    import tensorflow_addons as tfa

KINDS = ("integer", "bilinear")


@dataclasses.dataclass(frozen=True)
class QueryShift:
    kind: str = "integer"
    max_shift: float = 5.0  # m: in pixels if >= 1, else a fraction of the image's side

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"--query_shift={self.kind!r} is not one of {KINDS}.")
        if not self.max_shift > 0:
            raise ValueError("--query_shift_max must be > 0 (pixels if >= 1, else a fraction "
                             "of the image side).")

    def limits(self, height: int, width: int):
        """m in pixels along x and y (whole pixels, at least 1, for the integer kind)."""
        if self.max_shift >= 1:
            limits = (self.max_shift, self.max_shift)
        else:
            limits = (self.max_shift * width, self.max_shift * height)
        return tuple(max(1, round(m)) for m in limits) if self.kind == "integer" else limits


def random_shift(images, seed, shift: QueryShift = QueryShift()):
    """Shift each image of a (B, H, W, C) batch, any C, by its own random offset."""
    b, h, w = tf.shape(images)[0], images.shape[1], images.shape[2]
    limits = tf.constant(shift.limits(h, w), tf.float32)
    if shift.kind == "integer":
        unit = tf.random.stateless_uniform([b, 2], seed)  # [0, 1): floor gives -m..m-1
        offsets = tf.floor(unit * 2 * limits) - limits
        return tfa.image.translate(images, offsets, interpolation="nearest",
                                   fill_mode="constant", fill_value=0.0)
    offsets = tf.random.stateless_uniform([b, 2], seed, -1.0, 1.0) * limits
    return tfa.image.translate(images, offsets, interpolation="bilinear", fill_mode="nearest")


def shift_queries(query, seed, shift: QueryShift):
    """`random_shift` of every image of a (..., H, W, C) stack of query images."""
    image_shape = query.shape[-3:]
    shifted = random_shift(tf.reshape(query, [-1, *image_shape]), seed, shift)
    return tf.reshape(shifted, tf.shape(query))


def with_shifted_queries(batches: tf.data.Dataset, seed: int, shift: QueryShift,
                         start: int = 0):
    """A stream of (support, query) meta-batches, numbered from `start`, with meta-batch
    i's queries shifted by the stateless seed (seed, i): a resumed stream shifts exactly
    as an uninterrupted one."""
    seed = tf.constant(seed, tf.int64)
    numbered = tf.data.Dataset.zip((tf.data.Dataset.counter(start), batches))
    return numbered.map(lambda i, batch: (batch[0],
                                          shift_queries(batch[1], tf.stack([seed, i]), shift)))
