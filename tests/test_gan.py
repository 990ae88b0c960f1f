import hashlib
import json
import os

import numpy as np
import pytest
import tensorflow as tf

import util
from meta import builders
from meta import trainer as trainer_lib
from meta.config import config_from_args
from meta.gan_training import GANConfig, build_gan, snapshots, train_or_load_gan, cache_dir
from models.gan_networks import ARCHITECTURES
from tasks.labeled import TaskShape
from tasks.lasium import GeneratedTasks, LasiumConfig


@pytest.mark.parametrize("dataset, shape", [("omniglot", (28, 28, 1)),
                                            ("mini_imagenet", (84, 84, 3))])
def test_network_shapes(dataset, shape):
    arch = ARCHITECTURES[dataset]
    images = arch.generator(arch.latent_dim)(tf.random.normal([3, arch.latent_dim]))
    assert images.shape == (3, *shape)
    assert 0.0 <= float(tf.reduce_min(images)) and float(tf.reduce_max(images)) <= 1.0
    assert arch.discriminator()(images).shape == (3, 1)
    assert arch.discriminator(num_outputs=7)(images).shape == (3, 7)


def test_train_step_lowers_the_discriminator_loss_on_a_toy_problem():
    gan = build_gan("omniglot", GANConfig(seed=1))
    real = tf.concat([tf.ones([8, 28, 14, 1]), tf.zeros([8, 28, 14, 1])], axis=2)  # half white
    first = gan.train_step(real)
    for _ in range(15):
        last = gan.train_step(real)
    gan.reset_metrics()
    assert float(gan.train_step(real)["d_loss"]) < 0.8 * float(first["d_loss"])
    assert int(gan.step.numpy()) == 17
    assert np.isfinite(float(last["g_loss"])) and float(last["diversity"]) > 0


@pytest.mark.parametrize("num_classes", [0, 3])
@pytest.mark.parametrize("pairs, n, fakes_made", [("second_batch", 7, 14), ("within_batch", 7, 7),
                                                  ("within_batch", 8, 8)])
def test_mode_seeking_pairs(pairs, n, fakes_made, num_classes):
    """The generator makes one batch of fakes per step within the batch, two with a second
    latent batch; the two images of a pair come from different latents and share a class."""
    gan = build_gan("omniglot", GANConfig(diversity_pairs=pairs, num_classes=num_classes))
    made = []
    generate = gan.generate
    gan.generate = lambda z, codes=None, training=False: made.append(len(z)) or generate(z, codes)
    z = gan._random(0, [n, gan.latent_dim])
    fakes, codes, ((a, b), (z_a, z_b)) = gan._generator_fakes(z, n)
    assert sum(made) == len(fakes) == fakes_made
    assert len(a) == len(b) == len(z_a) == len(z_b) == fakes_made // 2
    assert not np.any(np.all(np.isclose(z_a, z_b), axis=1))
    np.testing.assert_array_equal(gan.generate(z_a, None if codes is None else codes[:len(a)]), a)
    if num_classes:
        assert codes.shape == (fakes_made, num_classes)
        np.testing.assert_array_equal(codes[:len(a)], codes[len(fakes) - len(b):])
    else:
        assert codes is None
    gan.generate = generate
    real = tf.random.stateless_uniform([n, 28, 28, 1], [0, 1])
    labeled = (real, tf.range(n) % max(num_classes, 1))
    losses = gan.train_step((real, labeled) if num_classes else real)
    assert np.isfinite(float(losses["g_loss"])) and float(losses["diversity"]) > 0


def test_train_step_at_84x84():
    """Mini-ImageNet's GAN trains (eagerly: tracing its step costs more than the step)."""
    gan = build_gan("mini_imagenet", GANConfig(seed=1))
    losses = gan.train_step(tf.random.stateless_uniform([4, 84, 84, 3], [0, 1]))
    assert all(np.isfinite(float(losses[k])) for k in ("d_loss", "g_loss", "diversity"))
    assert int(gan.step.numpy()) == 1


def small_pool(n=192, seed=0):
    return util.split(8, n // 8, seed=seed).images


def generator_weights(gan):
    return [w.numpy() for w in gan.generator.weights]


def test_resumed_gan_training_equals_uninterrupted(tmp_path, caplog):
    images = small_pool(64)
    config = GANConfig(epochs=2, batch_size=16, checkpoint_every=1, seed=3)
    with caplog.at_level("INFO"):
        straight = train_or_load_gan("omniglot", images, config, str(tmp_path / "a"))
    # Output is not a terminal here, so progress comes as log lines within each epoch.
    steps = len(images) // 16
    assert f"GAN epoch 2: step {max(1, steps // 10)}/{steps}" in caplog.text
    train_or_load_gan("omniglot", images, GANConfig(**{**config.__dict__, "epochs": 1}),
                      str(tmp_path / "b"))
    resumed = train_or_load_gan("omniglot", images, config, str(tmp_path / "b"))
    for a, b in zip(generator_weights(straight), generator_weights(resumed)):
        np.testing.assert_array_equal(a, b)
    directory = cache_dir(str(tmp_path / "b"), "omniglot", images, config)
    assert snapshots(directory) == [1, 2]
    # Asking again reuses the cached snapshots, for the last epoch or an earlier one.
    again = train_or_load_gan("omniglot", images, config, str(tmp_path / "b"))
    for a, b in zip(generator_weights(straight), generator_weights(again)):
        np.testing.assert_array_equal(a, b)
    earlier = train_or_load_gan("omniglot", images, GANConfig(**{**config.__dict__, "epochs": 1}),
                                str(tmp_path / "b"))
    assert any(not np.array_equal(a, b) for a, b in zip(generator_weights(straight),
                                                        generator_weights(earlier)))


def test_cache_key_depends_on_images_and_settings(tmp_path):
    images = small_pool()
    base = cache_dir("g", "omniglot", images, GANConfig())
    assert base == cache_dir("g", "omniglot", images, GANConfig(epochs=99, checkpoint_every=7))
    assert base != cache_dir("g", "omniglot", small_pool(seed=1), GANConfig())
    assert base != cache_dir("g", "omniglot", images, GANConfig(learning_rate=1e-3))
    bf16 = GANConfig(precision="mixed_bfloat16")
    assert base != cache_dir("g", "omniglot", images, bf16)
    assert base != cache_dir("g", "omniglot", images, GANConfig(diversity_pairs="within_batch"))
    assert (cache_dir("g", "omniglot", images, GANConfig(num_classes=3))
            != cache_dir("g", "omniglot", images, GANConfig(num_classes=3, precision="mixed_bfloat16")))
    # The float32 key is the one made before the setting existed: cached GANs stay found.
    key = hashlib.sha256(images.tobytes())
    key.update(json.dumps({"dataset": "omniglot", "batch_size": 128, "learning_rate": 3e-4,
                           "label_noise": 0.05, "diversity_weight": 0.1, "seed": 0},
                          sort_keys=True).encode())
    assert base == os.path.join("g", f"omniglot-{key.hexdigest()[:12]}")


def test_untrained_generator_at_zero_epochs(tmp_path):
    gan = train_or_load_gan("omniglot", small_pool(), GANConfig(epochs=0), str(tmp_path))
    fresh = build_gan("omniglot", GANConfig())
    for a, b in zip(gan.generator.weights, fresh.generator.weights):
        np.testing.assert_array_equal(a, b)
    assert not (tmp_path / "omniglot").exists() and not any(tmp_path.iterdir())


def test_too_few_images_for_a_batch_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="--gan_batch_size"):
        train_or_load_gan("omniglot", small_pool(64), GANConfig(batch_size=128), str(tmp_path))


@pytest.mark.parametrize("gan_data", ["all", "unlabeled"])
def test_gan_trains_on_training_images_only(tmp_path, monkeypatch, gan_data):
    seen = {}

    def fake_train(dataset, images, config, gan_dir, labeled=None):
        seen["images"] = images
        return util.FakeGAN()

    monkeypatch.setattr(builders, "train_or_load_gan", fake_train)
    db = util.database()
    trainer_lib.Trainer(config_from_args("--method=ssml", "--label_fraction=0.5",
                                         f"--gan_data={gan_data}", f"--output_dir={tmp_path}"), db)
    labeled = builders.labeled_images(config_from_args("--label_fraction=0.5"), db.train)
    expected = db.train.images if gan_data == "all" else db.train.images[~labeled]
    np.testing.assert_array_equal(seen["images"], expected)
    held_out = {x.tobytes() for x in np.concatenate([db.val.images, db.test.images])}
    assert not any(x.tobytes() in held_out for x in seen["images"])


def test_lasium_run_end_to_end(tmp_path):
    args = ["--method=lasium", "--label_fraction=0", "--lasium=oc", "--gan_epochs=1",
            "--gan_batch_size=50", f"--gan_dir={tmp_path / 'gans'}", "--iterations=3",
            "--val_every=3", "--meta_batch=2", "--num_val_tasks=2", "--num_test_tasks=3",
            "--test_inner_steps=2", "--val_inner_steps=2", f"--output_dir={tmp_path / 'run'}"]
    results = trainer_lib.run(config_from_args(*args), util.database())
    assert results["method"] == "lasium" and results["config"]["lasium"] == "oc"
    assert results["labeled_images"] == 0 and 0.0 <= results["test_accuracy"] <= 1.0
    [cached] = (tmp_path / "gans").iterdir()
    assert snapshots(str(cached)) == [1] and (cached / "samples" / "epoch-1.png").exists()


def test_discriminator_learns_from_the_fakes_of_the_generator_before_its_update():
    """One generator pass serves both updates; the discriminator's must still be the one
    it would make on its own, on G(z1) before the generator moves."""
    real = tf.random.stateless_uniform([8, 28, 28, 1], [0, 1])
    gan, twin = (build_gan("omniglot", GANConfig(seed=1)) for _ in range(2))
    z1 = twin._random(0, [8, twin.latent_dim])
    twin._discriminator_update(real, twin.generate(z1, training=True), None)
    gan.train_step(real)
    for a, b in zip(gan.discriminator.weights, twin.discriminator.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7)
    assert any(not np.array_equal(a, b) for a, b in zip(generator_weights(gan),
                                                        generator_weights(twin)))


def test_mixed_bfloat16_generator_gives_float32_images_and_tasks():
    gan = build_gan("omniglot", GANConfig(precision="mixed_bfloat16"))
    assert tf.keras.mixed_precision.global_policy().name == "float32"  # restored after building
    assert gan.generator.layers[0].compute_dtype == "bfloat16"  # the policy did apply
    assert gan.generator(tf.zeros([2, gan.latent_dim])).dtype == tf.float32
    tasks = GeneratedTasks(gan.generator, gan.latent_dim, TaskShape(5, 1, 5), (28, 28, 1),
                           LasiumConfig("n"))
    support, query = tasks.meta_batch(tf.constant([0, 1], tf.int64), 2)
    assert support.dtype == query.dtype == tf.float32
    assert support.shape == (2, 5, 1, 28, 28, 1) and query.shape == (2, 5, 5, 28, 28, 1)
