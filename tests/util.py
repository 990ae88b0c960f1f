"""What several test files use: small synthetic data sets, tiny networks and tasks, a fast run
configuration, a results JSON, a stand-in sweep run and a stand-in GAN (fixtures are in
conftest.py)."""
import dataclasses
import json
import os
import types

import numpy as np
import tensorflow as tf

from databases import Split
from meta.config import config_from_args
from models.classifier import ConvNetConfig


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


# A network and tasks small enough for exact gradient checks.
TINY = ConvNetConfig(filters=3, strided=True, image_shape=(8, 8, 1))


def tiny_task(seed=0, n=3, k=2, q=2, shape=(8, 8, 1), dtype=np.float32):
    rng = np.random.default_rng(seed)
    support = rng.random((n, k, *shape)).astype(dtype)
    query = rng.random((n, q, *shape)).astype(dtype)
    return tf.constant(support), tf.constant(query)


# A small, fast run: 2 tasks per meta-batch, a few validation/test tasks.
FAST = ("--meta_batch=2", "--num_val_tasks=3", "--num_test_tasks=5", "--val_inner_steps=2",
        "--test_inner_steps=3", "--log_every=2", "--image_every=2")


def config(tmp_path, *args, name="run"):
    """The Config of a fast run in tmp_path/name, with command-line style `args`."""
    return config_from_args(*FAST, f"--output_dir={tmp_path / name}", *args)


def fake_run(args) -> str:
    """Stands in for a sweep cell's run (run_scripts.sweep.train): writes the results JSON
    of `args`, a run's command-line flags, in its output folder; returns its path."""
    flags = dict(a[2:].split("=", 1) for a in args)
    r = results(method=flags["method"], label_fraction=float(flags["label_fraction"]),
                config=dataclasses.asdict(config_from_args(*args)))
    os.makedirs(flags["output_dir"], exist_ok=True)
    path = os.path.join(flags["output_dir"], "results.json")
    with open(path, "w") as f:
        json.dump(r, f)
    return path


def results(**changes):
    """A results JSON as a run writes it, with `changes`."""
    r = {"dataset": "omniglot", "method": "maml", "label_scheme": "classes", "label_fraction": 0.1,
         "n_way": 5, "k_shot": 1, "test_accuracy": 0.8765, "test_ci95": 0.0123,
         "num_test_tasks": 1000, "seed": 0, "iterations": 100, "wall_seconds": 120.0,
         "command": "bash run_scripts/omniglot_maml.sh", "git_commit": "abcdef1234567",
         "data_source": "omniglot.npz", "config": {"num_val_tasks": 10, "lasium": "ro", "gan_epochs": 10},
         "val_history": [{"step": 50, "val_accuracy": 0.5, "val_ci95": 0.01}]}
    r.update(changes)
    return r
