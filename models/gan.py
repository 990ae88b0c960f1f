"""A GAN as a `keras.Model` with its own `train_step` (after the Keras DCGAN example),
with LASIUM's losses:

* binary cross-entropy on logits, real = 1 and fake = 0, each target moved towards the
  other by up to `label_noise` (uniform), which keeps the discriminator from saturating;
* the generator's mode-seeking term (Mao et al., 2019): for pairs of latents z1, z2
  and the images they produce, diversity = mean|G(z1) - G(z2)| / mean|z1 - z2|, and the
  generator adds `diversity_weight / (diversity + 1e-5)` to its loss. The pairs are
  `diversity_pairs`: "second_batch" draws a second latent batch, so the generator makes
  and learns from twice the batch in fakes per step (the original code paired with a
  stale latent batch instead); "within_batch" pairs the first half of one batch of fakes
  with its second half, which halves the generator's work per step.

Latents are stateless random draws keyed by (seed, step), so a resumed training run
draws exactly what the uninterrupted one would have.
"""
import tensorflow as tf
from tensorflow import keras


DIVERSITY_PAIRS = ("second_batch", "within_batch")


def _bce(targets, logits):
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(targets, logits))


class GAN(keras.Model):
    num_classes = 0  # unconditional (models/ssgan.py has class-conditional generators)

    def __init__(self, generator, discriminator, latent_dim: int, label_noise: float = 0.05,
                 diversity_weight: float = 0.1, seed: int = 0,
                 diversity_pairs: str = "second_batch"):
        if diversity_pairs not in DIVERSITY_PAIRS:
            raise ValueError(f"--gan_diversity_pairs={diversity_pairs!r} is not one of "
                             f"{DIVERSITY_PAIRS}.")
        super().__init__()
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.label_noise, self.diversity_weight = latent_dim, label_noise, diversity_weight
        self.seed, self.diversity_pairs = seed, diversity_pairs
        self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="gan_step")
        self.trackers = {name: keras.metrics.Mean(name) for name in ("d_loss", "g_loss", "diversity")}

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def _step_seed(self, purpose: int):
        """The stateless seed of this step's draw for `purpose` (0-7)."""
        return tf.stack([tf.cast(self.seed, tf.int64) * 8 + purpose, self.step])

    def _random(self, purpose: int, shape, uniform=False):
        draw = tf.random.stateless_uniform if uniform else tf.random.stateless_normal
        return draw(shape, self._step_seed(purpose))

    def _noisy_targets(self, real: bool, n, purpose: int):
        noise = self.label_noise * self._random(purpose, [n, 1], uniform=True)
        return 1.0 - noise if real else noise

    # Hooks that the semi-supervised GAN (models/ssgan.py) overrides.
    def generate(self, z, codes=None, training=False):
        return self.generator(z, training=training)

    def _codes(self, n):
        """Class codes of this step's fakes (None: unconditional)."""
        return None

    def _realness(self, outputs):
        """The real-vs-fake logit among the discriminator's outputs."""
        return outputs

    def _supervised_loss(self, labeled):
        return 0.0

    def _generator_class_loss(self, outputs, codes):
        return 0.0

    def _generator_adversarial_loss(self, real_images, fakes, realness):
        """Non-saturating: the generator wants its fakes called real."""
        return _bce(tf.ones_like(realness), realness)

    def _generator_fakes(self, z1, n):
        """This step's fakes, their class codes (None if unconditional) and the
        mode-seeking pairs ((images, images), (latents, latents)); the members of a pair
        share their class code."""
        if self.diversity_pairs == "second_batch":
            z2 = self._random(1, [n, self.latent_dim])
            codes = self._codes(n)
            fake1 = self.generate(z1, codes, training=True)
            fake2 = self.generate(z2, codes, training=True)
            codes = None if codes is None else tf.concat([codes, codes], 0)
            return tf.concat([fake1, fake2], 0), codes, ((fake1, fake2), (z1, z2))
        half = n // 2
        rest = n - half  # fake i pairs with fake rest + i (for odd n, the middle one is alone)
        codes = self._codes(rest)
        codes = None if codes is None else tf.concat([codes, codes[:half]], 0)
        fakes = self.generate(z1, codes, training=True)
        return fakes, codes, ((fakes[:half], fakes[rest:]), (z1[:half], z1[rest:]))

    def _discriminator_update(self, real_images, fake, labeled):
        n = tf.shape(real_images)[0]
        with tf.GradientTape() as tape:
            d_loss = (_bce(self._noisy_targets(True, n, 2),
                           self._realness(self.discriminator(real_images, training=True)))
                      + _bce(self._noisy_targets(False, n, 3),
                             self._realness(self.discriminator(fake, training=True))))
            d_loss += self._supervised_loss(labeled)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        return d_loss

    def train_step(self, data):
        # data: real images, or (images, labeled) where `labeled` is (images, classes).
        real_images, labeled = data if isinstance(data, tuple) else (data, None)
        n = tf.shape(real_images)[0]
        z1 = self._random(0, [n, self.latent_dim])
        with tf.GradientTape() as g_tape:
            fakes, codes, pairs = self._generator_fakes(z1, n)
            # The discriminator learns from the first n fakes too: the generator's weights
            # do not change before its own update, so one pass serves both. The
            # generator's loss below is scored by the updated discriminator.
            with g_tape.stop_recording():
                d_loss = self._discriminator_update(real_images, fakes[:n], labeled)
            outputs = self.discriminator(fakes, training=True)
            g_loss = self._generator_adversarial_loss(real_images, fakes, self._realness(outputs))
            g_loss += self._generator_class_loss(outputs, codes)
            (fake_a, fake_b), (z_a, z_b) = pairs
            diversity = tf.reduce_mean(tf.abs(fake_a - fake_b)) / tf.reduce_mean(tf.abs(z_a - z_b))
            g_loss += self.diversity_weight / (diversity + 1e-5)
        grads = g_tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.step.assign_add(1)

        for name, value in (("d_loss", d_loss), ("g_loss", g_loss), ("diversity", diversity)):
            self.trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self.trackers.items()}
