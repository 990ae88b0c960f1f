"""Benchmark: milliseconds per meta-iteration (MAML, ProtoNets), and the task pipelines'
supply rate.

    python -m run_scripts.bench_maml [--dataset=omniglot] [--repeats=5] [--steps=20]

Times second-order and first-order meta-iterations at the default configuration of the
data set (meta-batch, inner steps, query size from the flags' defaults and the preset),
each as the median over `repeats` timed blocks of `steps` iterations, after a warm-up.
The first-order step is the baseline measured in the same run; the ratios to it
(second-order MAML, and prototypical networks on the same meta-batch) are reported
because absolute times on shared machines are noisy. The task pipelines are timed the
same way, alone: the labeled one (random images of the data set's size) and the
generated one (an untrained generator of the data set's GAN, LASIUM-RO latents; its
speed does not depend on training), to show whether the MAML step could wait for data.
Last, one GAN training step on a batch of random images, in four variants measured in
alternating blocks of the same run: the generator built with Keras's own layers (the
baseline), with the fast layers of models/fast_layers.py (the same function; what training
uses), with the fast layers under mixed_bfloat16 (slightly different numerics), and that
with --gan_diversity_pairs=within_batch (half the fakes per step: another training). The
ratios baseline / variant are reported; `gan_step_ms` is the variant that `--gan_precision`
and `--gan_diversity_pairs` train with (none for float32 with pairs within the batch, which
is not timed). (Mini-ImageNet's generator has no fast layer: its baseline and fast variants
are the same network.)
"""
import dataclasses
import json
import statistics
import time

import numpy as np
import tensorflow as tf
from absl import flags, logging

from meta import config as config_lib
from infra.atomic_io import write_json_atomic
from infra.entry_point import run_main
from meta.builders import gan_config
from meta.gan_training import build_gan
from meta.maml import MAML, InnerLoop
from meta.protonets import ProtoNets
from meta.results import command_line, git_commit
from models import gan_networks
from models.classifier import CONFIGS, ConvNet
from models.gan_networks import ARCHITECTURES
from tasks.labeled import TaskSampler, TaskShape, meta_batches, task_stream
from tasks.lasium import GeneratedTasks, LasiumConfig, generated_stream

config_lib.define_flags()
flags.DEFINE_integer("repeats", 5, "Timed blocks per measurement (the median is reported).")
flags.DEFINE_integer("steps", 20, "Iterations per timed block.")
flags.DEFINE_string("output", None, "Also write the numbers to this JSON file.")
FLAGS = flags.FLAGS


def median_ms(run_block, repeats, steps):
    run_block(2)  # warm-up: tracing and first-call allocation
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_block(steps)
        times.append(1000 * (time.perf_counter() - start) / steps)
    return statistics.median(times), times


def alternating_median_ms(run_blocks: dict, repeats, steps):
    """median_ms for several variants, their timed blocks taking turns, so that a noisy
    neighbour slows all of them alike."""
    for run_block in run_blocks.values():
        run_block(2)  # warm-up
    times = {name: [] for name in run_blocks}
    for _ in range(repeats):
        for name, run_block in run_blocks.items():
            start = time.perf_counter()
            run_block(steps)
            times[name].append(1000 * (time.perf_counter() - start) / steps)
    return {name: statistics.median(t) for name, t in times.items()}


def gan_step_block(dataset, config, real, fast_layers=True):
    """A function that runs n steps of a fresh GAN's training, its generator built with the
    fast layers or with Keras's own."""
    gan_networks.FAST_LAYERS = fast_layers
    try:
        gan = build_gan(dataset, config)
    finally:
        gan_networks.FAST_LAYERS = True
    step = tf.function(gan.train_step)

    def block(n):
        for _ in range(n):
            out = step(real)
        float(out["d_loss"])  # wait for the last step

    return block


def synthetic_sampler(c, shape):
    rng = np.random.default_rng(0)
    classes, per_class = 200, 20
    images = rng.integers(0, 256, (classes * per_class, *shape), dtype=np.uint8)
    labels = np.repeat(np.arange(classes), per_class)
    return TaskSampler(images, labels, TaskShape(c.n_way, c.k_shot, c.train_query), "bench")


def main(_):
    c = config_lib.Config.from_flags()
    shape = CONFIGS[c.dataset].image_shape
    sampler = synthetic_sampler(c, shape)
    batches = iter(meta_batches(task_stream(sampler, seed=0), c.meta_batch).repeat())
    support, query = next(batches)
    results = {"dataset": c.dataset, "meta_batch": c.meta_batch, "inner_steps": c.inner_steps,
               "train_query": c.train_query, "repeats": FLAGS.repeats, "steps": FLAGS.steps,
               "device": tf.test.gpu_device_name() or "CPU", "git_commit": git_commit(),
               "command": command_line()}
    for order in ("second_order", "first_order", "protonets"):
        model = ConvNet(CONFIGS[c.dataset], c.n_way, c.batch_norm)
        optimizer = tf.keras.optimizers.Adam(c.meta_lr)
        learner = ProtoNets(model, optimizer, jit_compile=c.xla) if order == "protonets" else \
            MAML(model, optimizer, InnerLoop(c.inner_steps, c.inner_lr),
                 first_order=order == "first_order", jit_compile=c.xla)

        def block(n):
            for _ in range(n):
                loss, _, _ = learner.train_step(support, query)
            float(loss)  # wait for the last step

        results[f"{order}_ms"], results[f"{order}_all_ms"] = median_ms(block, FLAGS.repeats,
                                                                       FLAGS.steps)
        logging.info("%s: median %.1f ms/iteration", order, results[f"{order}_ms"])

    arch = ARCHITECTURES[c.dataset]
    generated = GeneratedTasks(arch.generator(arch.latent_dim), arch.latent_dim,
                               TaskShape(c.n_way, c.k_shot, c.train_query), shape,
                               LasiumConfig("ro"))
    streams = {"labeled": batches, "generated": iter(generated_stream(generated, 0, c.meta_batch))}
    for name, stream in streams.items():
        def pipeline_block(n):
            for _ in range(n):
                next(stream)

        ms, _ = median_ms(pipeline_block, FLAGS.repeats, FLAGS.steps)
        results[f"{name}_pipeline_ms_per_meta_batch"] = ms
        results[f"{name}_pipeline_tasks_per_second"] = 1000 * c.meta_batch / ms
        logging.info("%s pipeline: median %.1f ms per meta-batch", name, ms)
    results["maml_tasks_per_second"] = 1000 * c.meta_batch / results["second_order_ms"]

    config = gan_config(c)
    float32, bf16, bf16_within = (
        dataclasses.replace(config, precision=p, diversity_pairs=pairs)
        for p, pairs in (("float32", "second_batch"), ("mixed_bfloat16", "second_batch"),
                         ("mixed_bfloat16", "within_batch")))
    real = tf.random.uniform([c.gan_batch_size, *shape])
    variants = {"baseline": gan_step_block(c.dataset, float32, real, fast_layers=False),
                "fast": gan_step_block(c.dataset, float32, real),
                "fast_bf16": gan_step_block(c.dataset, bf16, real),
                "fast_bf16_within": gan_step_block(c.dataset, bf16_within, real)}
    gan_ms = alternating_median_ms(variants, FLAGS.repeats, max(FLAGS.steps // 4, 1))
    for name, ms in gan_ms.items():
        results[f"gan_step_ms_{name}"] = ms
        if name != "baseline":
            results[f"gan_speedup_{name}"] = gan_ms["baseline"] / ms
    trained = ("fast" if config.precision == "float32" else "fast_bf16") + (
        "_within" if config.diversity_pairs == "within_batch" else "")
    if trained in gan_ms:
        results["gan_step_ms"] = gan_ms[trained]
    results["gan_batch_size"] = c.gan_batch_size
    logging.info("GAN: median ms per step of %d images: %s", c.gan_batch_size,
                 {name: round(ms, 1) for name, ms in gan_ms.items()})
    results["second_over_first_order"] = results["second_order_ms"] / results["first_order_ms"]
    results["first_order_over_protonets"] = results["first_order_ms"] / results["protonets_ms"]
    print(json.dumps(results, indent=2))
    if FLAGS.output:
        write_json_atomic(FLAGS.output, results)


if __name__ == "__main__":
    run_main(main)
