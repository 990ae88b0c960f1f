"""A semi-supervised, class-conditional GAN: the few labels train the GAN too.

The discriminator has K class logits (K labeled training classes):

* ``salimans`` (Salimans et al. 2016, "Improved Techniques for Training GANs"): K + 1
  classes with the fake class's logit fixed at 0, so p(real | x) = Z / (Z + 1) with
  Z = sum_k exp(l_k), i.e. the real/fake logit is logsumexp(l);
* ``separate``: K class logits plus a separate real/fake logit.

Its loss is the GAN's (all training images are "real") plus `supervised_weight` times the
cross-entropy of the class logits on a batch of labeled images.

The generator takes (z, w): w is a mixture over the K classes (one-hot for a labeled
class) and selects the class code w @ E from a learned embedding E. Besides the
adversarial term, an AC-GAN term asks the discriminator to classify G(z, w) as w
(`class_weight`). With `feature_matching`, the adversarial term is Salimans et al.'s
feature matching: the squared distance between the mean discriminator features of real
and fake images.
"""
import tensorflow as tf
from tensorflow import keras

from models.gan import GAN

FORMULATIONS = ("salimans", "separate")
CODE_DIM = 32  # size of a class code


class ConditionalGenerator(keras.Model):
    """G(z, w) = base(concat(z, w @ E)) for mixture weights w over `num_classes` classes."""

    def __init__(self, base, num_classes: int, code_dim: int, seed: int = 0):
        super().__init__(name="conditional_generator")
        self.base, self.num_classes = base, num_classes
        self.embedding = self.add_weight(
            name="class_codes", shape=(num_classes, code_dim),
            initializer=keras.initializers.RandomNormal(seed=seed))

    def call(self, inputs, training=False):
        z, weights = inputs
        return self.base(tf.concat([z, tf.matmul(weights, self.embedding)], 1), training=training)


class SSGAN(GAN):
    def __init__(self, generator, discriminator, latent_dim: int, num_classes: int,
                 formulation: str = "salimans", supervised_weight: float = 1.0,
                 class_weight: float = 1.0, feature_matching: bool = False, **gan_args):
        if formulation not in FORMULATIONS:
            raise ValueError(f"--ssg_formulation={formulation!r} is not one of {FORMULATIONS}.")
        super().__init__(generator, discriminator, latent_dim, **gan_args)
        self.num_classes, self.formulation = num_classes, formulation
        self.supervised_weight, self.class_weight = supervised_weight, class_weight
        self.feature_matching = feature_matching
        # The discriminator's last layer is its head; what comes before are its features.
        self.features = keras.Model(discriminator.inputs, discriminator.layers[-2].output)

    def generate(self, z, codes=None, training=False):
        return self.generator((z, codes), training=training)

    def _codes(self, n):
        """One-hot codes of uniformly random labeled classes."""
        classes = tf.random.stateless_uniform([n], self._step_seed(4), 0, self.num_classes,
                                              tf.int32)
        return tf.one_hot(classes, self.num_classes)

    def class_logits(self, outputs):
        return outputs[:, :self.num_classes]

    def _realness(self, outputs):
        if self.formulation == "salimans":
            return tf.reduce_logsumexp(outputs, 1, keepdims=True)
        return outputs[:, self.num_classes:]

    def _supervised_loss(self, labeled):
        """Cross-entropy of the class logits on the labeled batch; classes < 0 mark images
        without a label, and a batch without labels adds nothing."""
        images, classes = labeled
        known = tf.cast(classes >= 0, tf.float32)
        logits = self.class_logits(self.discriminator(images, training=True))
        ce = tf.nn.sparse_softmax_cross_entropy_with_logits(tf.maximum(classes, 0), logits)
        return self.supervised_weight * tf.reduce_sum(ce * known) / tf.maximum(tf.reduce_sum(known), 1.0)

    def _generator_class_loss(self, outputs, codes):
        return self.class_weight * tf.reduce_mean(
            tf.nn.softmax_cross_entropy_with_logits(codes, self.class_logits(outputs)))

    def _generator_adversarial_loss(self, real_images, fakes, realness):
        if not self.feature_matching:
            return super()._generator_adversarial_loss(real_images, fakes, realness)
        real = tf.reduce_mean(self.features(real_images, training=True), 0)
        return tf.reduce_sum(tf.square(real - tf.reduce_mean(self.features(fakes, training=True), 0)))
