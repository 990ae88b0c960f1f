"""Train a GAN on unlabeled images, or reuse a cached one.

The GAN is LASIUM's (models/gan.py) or, with `num_classes` > 0, the semi-supervised,
class-conditional one (models/ssgan.py), which also draws a batch of labeled images per
step. A GAN is cached under ``<gan_dir>/<dataset>-<key>/``, where the key hashes the
training images (and labels) themselves and every setting that changes training except
the epoch count:

  state/            the full resumable state (both networks, both optimizers, epoch)
  generator/        generator snapshots, `epoch-N`, every `checkpoint_every` epochs
  samples/          PNG grids from fixed latents (one class per row if conditional)
  tb/               TensorBoard: d/g losses, diversity, sample grids

Asking for N epochs loads the snapshot of epoch N when there is one; otherwise training
resumes from the saved state (or starts) and runs up to epoch N. So a run with more
epochs extends a cached GAN instead of starting over, and a killed run resumes.
Shuffling and latents are stateless draws keyed by (seed, epoch) and (seed, step), so a
resumed run trains exactly as an uninterrupted one.
"""
import dataclasses
import hashlib
import json
import os
import sys
import time

import numpy as np
import tensorflow as tf
from absl import logging
from tensorflow import keras

from infra import cpu, file_lock
from meta.summaries import image_rows
from models.gan import GAN
from models.ssgan import CODE_DIM, ConditionalGenerator, SSGAN
from models.gan_networks import ARCHITECTURES


@dataclasses.dataclass(frozen=True)
class GANConfig:
    epochs: int = 30
    batch_size: int = 128
    learning_rate: float = 3e-4
    label_noise: float = 0.05
    diversity_weight: float = 0.1
    diversity_pairs: str = "second_batch"  # models/gan.py's DIVERSITY_PAIRS
    checkpoint_every: int = 5
    seed: int = 0
    # Semi-supervised, class-conditional GAN (models/ssgan.py) when num_classes > 0.
    num_classes: int = 0
    formulation: str = "salimans"
    supervised_weight: float = 1.0
    class_weight: float = 1.0
    feature_matching: bool = False
    precision: str = "float32"  # or mixed_bfloat16: the networks' compute type


_PLAIN_FIELDS = ("batch_size", "learning_rate", "label_noise", "diversity_weight", "seed")
PRECISIONS = ("float32", "mixed_bfloat16")
PRECISION_CHOICES = ("auto", *PRECISIONS)


def resolve_precision(precision: str) -> str:
    """The compute type `auto` means here: mixed_bfloat16 on a CPU that computes bfloat16
    natively (there a GAN step is about 1.9x faster, and LASIUM's accuracy on its generator
    the same: results/README.md), float32 elsewhere, GPUs included, and on CPUs that would
    emulate bfloat16 slowly."""
    if precision != "auto":
        return precision
    if cpu.native_bfloat16() and not tf.config.list_physical_devices("GPU"):
        return "mixed_bfloat16"
    return "float32"


def build_gan(dataset: str, config: GANConfig) -> GAN:
    if config.precision not in PRECISIONS:
        raise ValueError(f"--gan_precision={config.precision!r} is not one of {PRECISIONS}.")
    arch = ARCHITECTURES[dataset]
    keras.utils.set_random_seed(config.seed)  # the networks' initial weights
    # The networks take the policy they are built under; their outputs stay float32.
    keras.mixed_precision.set_global_policy(config.precision)
    try:
        return _build_gan(arch, config)
    finally:
        keras.mixed_precision.set_global_policy("float32")


def _build_gan(arch, config: GANConfig) -> GAN:
    common = dict(label_noise=config.label_noise, diversity_weight=config.diversity_weight,
                  seed=config.seed, diversity_pairs=config.diversity_pairs)
    k = config.num_classes
    if k:
        generator = ConditionalGenerator(arch.generator(arch.latent_dim + CODE_DIM), k, CODE_DIM,
                                         seed=config.seed)
        generator((tf.zeros([1, arch.latent_dim]), tf.zeros([1, k])))  # create its weights
        discriminator = arch.discriminator(k if config.formulation == "salimans" else k + 1)
        gan = SSGAN(generator, discriminator, arch.latent_dim, k, config.formulation,
                    config.supervised_weight, config.class_weight, config.feature_matching,
                    **common)
    else:
        gan = GAN(arch.generator(arch.latent_dim), arch.discriminator(), arch.latent_dim, **common)
    gan.compile(keras.optimizers.Adam(config.learning_rate),
                keras.optimizers.Adam(config.learning_rate))
    gan.d_optimizer.build(gan.discriminator.trainable_weights)
    gan.g_optimizer.build(gan.generator.trainable_weights)
    return gan


def cache_dir(gan_dir: str, dataset: str, images: np.ndarray, config: GANConfig,
              labeled=None) -> str:
    key = hashlib.sha256(images.tobytes())
    for array in labeled or ():
        key.update(array.tobytes())
    settings = {k: v for k, v in dataclasses.asdict(config).items()
                if k not in ("epochs", "checkpoint_every")}
    # Keys made before the semi-supervised GAN, the precision and the diversity pairs
    # settings existed stay valid.
    if not config.num_classes:
        settings = {k: v for k, v in settings.items()
                    if k in _PLAIN_FIELDS + ("precision", "diversity_pairs")}
    for name, old_default in (("precision", "float32"), ("diversity_pairs", "second_batch")):
        if settings[name] == old_default:
            settings.pop(name)
    key.update(json.dumps({"dataset": dataset, **settings}, sort_keys=True).encode())
    return os.path.join(gan_dir, f"{dataset}-{key.hexdigest()[:12]}")


def epoch_batches(images: np.ndarray, batch_size: int, seed: int, first_epoch: int, epochs: int):
    """Float batches in [0, 1]: epoch e is a stateless shuffle keyed by (seed, e)."""
    if len(images) < batch_size:
        raise ValueError(f"The GAN has {len(images)} training images, fewer than one batch "
                         f"(--gan_batch_size={batch_size}). Lower --gan_batch_size.")
    pool = tf.constant(images)
    n = len(images)

    def one_epoch(epoch):
        order = tf.argsort(tf.random.stateless_uniform([n], tf.stack([tf.cast(seed, tf.int64), epoch])))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)

    return (tf.data.Dataset.range(first_epoch, epochs).flat_map(one_epoch)
            .map(lambda i: tf.cast(tf.gather(pool, i), tf.float32) / 255.0,
                 num_parallel_calls=tf.data.AUTOTUNE)
            .prefetch(tf.data.AUTOTUNE))


def labeled_batches(labeled, batch_size: int, seed: int, first_step: int):
    """(images in [0, 1], classes) batches drawn with replacement from the labeled images;
    batch i is a stateless draw keyed by (seed, i)."""
    images, classes = (tf.constant(a) for a in labeled)
    n = len(labeled[0])

    def draw(step):
        i = tf.random.stateless_uniform([batch_size], tf.stack([tf.cast(seed, tf.int64) + 1, step]),
                                        0, n, tf.int32)
        return tf.cast(tf.gather(images, i), tf.float32) / 255.0, tf.gather(classes, i)

    return tf.data.Dataset.counter(first_step).map(draw)


def grid_codes(gan, rows: int, columns: int):
    """One class per row for a conditional GAN (cycling through its classes), else None."""
    if not isinstance(gan, SSGAN):
        return None
    return tf.one_hot(tf.repeat(tf.range(rows) % gan.num_classes, columns), gan.num_classes)


def sample_grid(gan, latents, columns: int = 8):
    """(1, H*rows, W*columns, C) grid of the generator's images for fixed latents; a
    conditional generator gets one class per row."""
    images = gan.generate(latents, grid_codes(gan, latents.shape[0] // columns, columns))
    rows = images.shape[0] // columns
    return image_rows(tf.reshape(images[:rows * columns], [rows, columns, *images.shape[1:]]))[None]


class _Checkpointing(keras.callbacks.Callback):
    """Saves state and a generator snapshot every `every` epochs and at the last one,
    and logs losses and a sample grid to TensorBoard."""

    def __init__(self, gan, directory, epoch, every, last_epoch):
        super().__init__()
        self.gan, self.directory, self.epoch, self.every, self.last = gan, directory, epoch, every, last_epoch
        self.state = tf.train.CheckpointManager(_state(gan, epoch), os.path.join(directory, "state"), 1)
        self.writer = tf.summary.create_file_writer(os.path.join(directory, "tb"))
        self.latents = tf.random.stateless_normal([64, gan.latent_dim], [7, 7])

    def on_epoch_end(self, epoch, logs=None):
        done = epoch + 1
        self.epoch.assign(done)
        with self.writer.as_default(step=done):
            for name, value in (logs or {}).items():
                tf.summary.scalar(name, value)
            if done % self.every == 0 or done == self.last:
                grid = sample_grid(self.gan, self.latents)
                tf.summary.image("samples", grid)
                os.makedirs(os.path.join(self.directory, "samples"), exist_ok=True)
                tf.io.write_file(os.path.join(self.directory, "samples", f"epoch-{done}.png"),
                                 tf.io.encode_png(tf.cast(tf.round(grid[0] * 255), tf.uint8)))
        if done % self.every == 0 or done == self.last:
            self.state.save(checkpoint_number=done)
            tf.train.Checkpoint(generator=self.gan.generator).write(_snapshot(self.directory, done))


class _ProgressLog(keras.callbacks.Callback):
    """Logs a line every tenth of an epoch. Keras prints nothing within an epoch when
    stdout is not a terminal, and a Mini-ImageNet epoch takes most of an hour on a CPU."""

    def __init__(self, steps):
        super().__init__()
        self.steps, self.every = steps, max(1, steps // 10)

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch_number, self.start = epoch + 1, time.monotonic()

    def on_train_batch_end(self, batch, logs=None):
        done = batch + 1
        if done % self.every or done == self.steps:
            return
        seconds = (time.monotonic() - self.start) / done
        losses = ", ".join(f"{name} {float(value):.4f}" for name, value in (logs or {}).items())
        logging.info("GAN epoch %d: step %d/%d, %.2f s/step, about %.0f s left in the epoch; %s",
                     self.epoch_number, done, self.steps, seconds, seconds * (self.steps - done),
                     losses)


def _state(gan, epoch):
    return tf.train.Checkpoint(generator=gan.generator, discriminator=gan.discriminator,
                               d_optimizer=gan.d_optimizer, g_optimizer=gan.g_optimizer,
                               step=gan.step, epoch=epoch)


def _snapshot(directory, epoch):
    return os.path.join(directory, "generator", f"epoch-{epoch}")


def snapshots(directory):
    folder = os.path.join(directory, "generator")
    if not os.path.isdir(folder):
        return []
    return sorted(int(f.split("-")[1].split(".")[0]) for f in os.listdir(folder)
                  if f.startswith("epoch-") and f.endswith(".index"))


def train_or_load_gan(dataset: str, images: np.ndarray, config: GANConfig, gan_dir: str,
                      labeled=None) -> GAN:
    """A GAN whose generator has trained `config.epochs` epochs on `images` (uint8); a
    semi-supervised one (config.num_classes > 0) also on `labeled` = (uint8 images,
    classes in 0..num_classes-1)."""
    if bool(config.num_classes) != (labeled is not None):
        raise ValueError("A semi-supervised GAN needs labeled images, and only it uses them.")
    directory = cache_dir(gan_dir, dataset, images, config, labeled)
    gan = build_gan(dataset, config)
    if config.epochs == 0:
        logging.info("--gan_epochs=0: the untrained generator (its seeded initial weights).")
        return gan
    # Sweep cells that share this GAN may run at once: one trains it, the others wait.
    busy = lambda: logging.info("Another process is training the GAN in %s: waiting for it.",  # noqa
                                directory)
    with file_lock.exclusive(os.path.join(directory, ".lock"), busy):
        if config.epochs in snapshots(directory):
            tf.train.Checkpoint(generator=gan.generator).read(
                _snapshot(directory, config.epochs)).assert_existing_objects_matched()
            logging.info("Reusing the cached GAN generator %s (epoch %d).", directory,
                         config.epochs)
        else:
            _train(gan, directory, images, config, labeled)
    return gan


def _train(gan, directory, images, config, labeled):
    """Trains `gan` up to `config.epochs`, from its saved state in `directory` if any."""
    epoch = tf.Variable(0, dtype=tf.int64, trainable=False)
    state = tf.train.CheckpointManager(_state(gan, epoch), os.path.join(directory, "state"), 1)
    if state.latest_checkpoint:
        state.checkpoint.restore(state.latest_checkpoint).assert_consumed()
    start = int(epoch.numpy())
    if start > config.epochs:
        raise ValueError(
            f"The cached GAN in {directory} has trained {start} epochs, past --gan_epochs="
            f"{config.epochs}, and keeps generator snapshots only at epochs "
            f"{snapshots(directory)}. Ask for one of those, or pass another --gan_dir.")
    logging.info("Training the GAN in %s on %d images: epochs %d..%d.", directory, len(images),
                 start + 1, config.epochs)
    steps = len(images) // config.batch_size
    data = epoch_batches(images, config.batch_size, config.seed, start, config.epochs)
    if labeled is not None:
        data = tf.data.Dataset.zip((data, labeled_batches(labeled, config.batch_size, config.seed,
                                                          start * steps)))
    terminal = sys.stdout.isatty()  # else Keras prints one line per epoch: log progress too
    gan.fit(data,
            epochs=config.epochs, initial_epoch=start, steps_per_epoch=steps,
            verbose=1 if terminal else 2,
            callbacks=[_Checkpointing(gan, directory, epoch, config.checkpoint_every, config.epochs)]
            + ([] if terminal else [_ProgressLog(steps)]))
