import numpy as np
import pytest
import tensorflow as tf

import util
from meta import trainer as trainer_lib
from meta.config import config_from_args
from meta.gan_training import GANConfig, build_gan, cache_dir, snapshots, train_or_load_gan
from tasks.labeled import TaskShape
from tasks.lasium import GeneratedTasks, LasiumConfig, class_mixtures


def batch(n=16, classes=4, seed=0):
    split = util.split(classes, n // classes, seed=seed)
    images = tf.constant(split.images, tf.float32) / 255.0
    return images, (images, tf.constant(split.labels))


@pytest.mark.parametrize("dataset, formulation, outputs", [
    ("omniglot", "salimans", 4), ("omniglot", "separate", 5), ("mini_imagenet", "salimans", 4)])
def test_discriminator_outputs_and_losses(dataset, formulation, outputs):
    gan = build_gan(dataset, GANConfig(num_classes=4, formulation=formulation))
    z = tf.random.normal([3, gan.latent_dim])
    fakes = gan.generate(z, tf.one_hot([0, 1, 3], 4))
    d = gan.discriminator(fakes)
    assert d.shape == (3, outputs) and gan._realness(d).shape == (3, 1)
    assert gan.class_logits(d).shape == (3, 4)
    if dataset == "omniglot":  # one full step: every loss finite
        losses = gan.train_step(batch())
        assert all(np.isfinite(float(v)) for v in losses.values())


def test_salimans_realness_is_logsumexp_of_class_logits():
    gan = build_gan("omniglot", GANConfig(num_classes=3))
    logits = tf.constant([[0.0, 1.0, -2.0]])
    np.testing.assert_allclose(gan._realness(logits), [[np.log(1 + np.e + np.exp(-2))]], rtol=1e-6)


def test_supervised_term_is_zero_without_labels_and_positive_with():
    gan = build_gan("omniglot", GANConfig(num_classes=4))
    images, (labeled, classes) = batch()
    assert float(gan._supervised_loss((labeled, -tf.ones_like(classes)))) == 0.0
    assert float(gan._supervised_loss((labeled, classes))) > 0.0


def test_supervised_term_is_learned():
    gan = build_gan("omniglot", GANConfig(num_classes=4, seed=2))
    data = batch(8)
    first = float(gan._supervised_loss(data[1]))
    for _ in range(20):
        gan.train_step(data)
    assert float(gan._supervised_loss(data[1])) < 0.75 * first


def test_conditioning_changes_the_output_and_mixtures_interpolate_codes():
    gan = build_gan("omniglot", GANConfig(num_classes=4))
    z = tf.random.normal([1, gan.latent_dim])
    one, two = gan.generate(z, tf.one_hot([0], 4)), gan.generate(z, tf.one_hot([1], 4))
    assert float(tf.reduce_max(tf.abs(one - two))) > 1e-4
    codes = gan.generator.embedding
    half = tf.matmul(tf.constant([[0.5, 0.5, 0.0, 0.0]]), codes)
    np.testing.assert_allclose(half[0], (codes[0] + codes[1]) / 2, rtol=1e-6)


@pytest.mark.parametrize("parts", [1, 2, 3])
def test_class_mixtures(parts):
    w = class_mixtures(tf.constant([1, 2], tf.int64), 5, 12, parts).numpy()
    assert w.shape == (5, 12) and (w >= 0).all()
    np.testing.assert_allclose(w.sum(1), 1.0, rtol=1e-5)
    assert len(set(w.argmax(1))) == 5 or parts > 1  # one-hot codes: 5 distinct classes
    if parts == 1:
        assert ((w == 0) | (w == 1)).all()
    else:
        assert ((w > 0).sum(1) >= 2).any()


def test_conditional_tasks_share_a_code_per_class():
    # A fake conditional generator whose image is the code's expected class index.
    k = 6
    fake = lambda inputs, training=False: tf.tile(  # noqa: E731
        tf.reduce_sum(inputs[1] * tf.range(k, dtype=tf.float32), 1)[:, None, None, None],
        [1, 28, 28, 1])
    shape = TaskShape(5, 1, 3)
    tasks = GeneratedTasks(fake, 8, shape, (28, 28, 1), LasiumConfig(), num_classes=k,
                           mix_classes=2)
    support, query = tasks.meta_batch(tf.constant([0, 1], tf.int64), 2)
    assert support.shape == (2, 5, 1, 28, 28, 1) and query.shape == (2, 5, 3, 28, 28, 1)
    members = tf.concat([support, query], 2)[..., 0, 0, 0].numpy()  # (tasks, classes, members)
    np.testing.assert_allclose(members, members[..., :1].repeat(4, -1))
    assert all(len(set(np.round(t[:, 0], 5))) == 5 for t in members)
    with pytest.raises(ValueError, match="--label_fraction"):
        GeneratedTasks(fake, 8, shape, (28, 28, 1), LasiumConfig(), num_classes=4)


def test_resumed_ssgan_equals_uninterrupted_and_cache_depends_on_labels(tmp_path):
    pool = util.split(4, 16, seed=0)
    labeled = (pool.images[::4], pool.labels[::4])
    config = GANConfig(epochs=2, batch_size=16, checkpoint_every=1, seed=3, num_classes=4)
    straight = train_or_load_gan("omniglot", pool.images, config, str(tmp_path / "a"), labeled)
    train_or_load_gan("omniglot", pool.images, GANConfig(**{**config.__dict__, "epochs": 1}),
                      str(tmp_path / "b"), labeled)
    resumed = train_or_load_gan("omniglot", pool.images, config, str(tmp_path / "b"), labeled)
    for a, b in zip(straight.generator.weights, resumed.generator.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    directory = cache_dir(str(tmp_path / "b"), "omniglot", pool.images, config, labeled)
    assert snapshots(directory) == [1, 2]
    other = (labeled[0], (labeled[1] + 1) % 4)
    assert directory != cache_dir(str(tmp_path / "b"), "omniglot", pool.images, config, other)
    # A plain GAN's key does not depend on the semi-supervised settings.
    plain = GANConfig(seed=3)
    assert cache_dir("g", "omniglot", pool.images, plain) == cache_dir(
        "g", "omniglot", pool.images, GANConfig(seed=3, formulation="separate"))


def test_ssml_ssg_run_end_to_end(tmp_path):
    args = ["--method=ssml_ssg", "--label_fraction=0.5", "--gan_epochs=1",
            "--gan_batch_size=50", f"--gan_dir={tmp_path / 'gans'}", "--iterations=3",
            "--val_every=3", "--meta_batch=2", "--num_val_tasks=2", "--num_test_tasks=3",
            "--test_inner_steps=2", "--val_inner_steps=2", f"--output_dir={tmp_path / 'run'}"]
    results = trainer_lib.run(config_from_args(*args), util.database())
    assert results["method"] == "ssml_ssg" and 0.0 <= results["test_accuracy"] <= 1.0
    [cached] = (tmp_path / "gans").iterdir()
    assert (cached / "samples" / "epoch-1.png").exists()


def test_ssml_ssg_needs_labels():
    with pytest.raises(ValueError, match="label_fraction > 0"):
        config_from_args("--method=ssml_ssg", "--label_fraction=0")
