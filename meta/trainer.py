"""The trainer: data -> tasks -> meta-learner (MAML or ProtoNets) -> checkpoints, TensorBoard,
test accuracies; and `run`, which trains, tests and writes the results. The components come
from meta/builders.py, the results JSON from meta/results.py.

Run state lives in ``config.output_dir``:
  ckpt/         resumable checkpoints (weights, optimizer, step, best validation accuracy)
  best/         the checkpoint with the best validation accuracy
  tb/           TensorBoard logs (train/, val/)
  config.json   the flags of the run; a resumed run must match them
  history.json  validation accuracy by step
  results.json  the test results (written atomically at the end)
  .lock         held by the process that trains in the folder: a second one fails at once

Under --distribute=multi_worker every worker trains, and the chief alone writes the run
folder: the others save their checkpoints to a temporary folder that they delete at once
(TensorFlow's pattern: a save may need every worker), read the chief's to resume, and
neither test nor write results; the folder must be one that every worker sees.

Randomness is stateless: training task i is a pure function of (seed, i), so the step
counter in the checkpoint is the whole data/RNG state and a resumed run continues
exactly where the killed one stopped.
"""
import dataclasses
import json
import os
import tempfile
import time

import numpy as np
import tensorflow as tf
from absl import logging

from infra import file_lock
from infra.atomic_io import write_json_atomic
from meta import results as results_lib
from meta import statistics, summaries
from meta.builders import (generated_tasks, labeled_images, load_database, make_learner,
                           make_strategy, mix_config, query_shift, train_or_load_run_gan)
from meta.config import resumable_fields, unused_fields
from meta.maml import InnerLoop
from meta.process import set_determinism
from models.classifier import CONFIGS, ConvNet
from tasks import label_budget
from tasks.augmentation import with_shifted_queries
from tasks.labeled import TaskSampler, TaskShape, meta_batches, task_stream
from tasks.lasium import generated_stream
from tasks.mixing import mixed_stream, task_weights
from tasks.seeding import derive_seed

# Each worker of --distribute=multi_worker draws every meta-batch and keeps its replicas'
# slice of it (the tasks meta_learner.py weighs them by), not whole meta-batches of its own.
_EACH_WORKER_ITS_SLICE = tf.data.Options()
_EACH_WORKER_ITS_SLICE.experimental_distribute.auto_shard_policy = \
    tf.data.experimental.AutoShardPolicy.DATA


class Trainer:
    def __init__(self, config, database=None):
        self.config = c = config
        set_determinism(c)
        # First: a multi-worker strategy must exist before TensorFlow runs any op.
        self.strategy = make_strategy(c.distribute)
        self.chief = self.strategy.extended.should_checkpoint  # writes the run folder
        self.database = database or load_database(c)
        self._build_samplers()
        if c.meta_batch % self.strategy.num_replicas_in_sync:
            raise ValueError(f"--meta_batch={c.meta_batch} must be a multiple of the "
                             f"{self.strategy.num_replicas_in_sync} replicas of --distribute.")
        with self.strategy.scope():
            self.model = ConvNet(CONFIGS[c.dataset], c.n_way, c.batch_norm,
                                 seed=derive_seed(c.seed, "init"))
            self.optimizer = tf.keras.optimizers.Adam(meta_learning_rate(c))
            self.optimizer.build(self.model.trainable_weights)
            self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
            self.best_val = tf.Variable(-1.0, dtype=tf.float64, trainable=False)
            # Seconds spent training, over all resumptions of the run.
            self.train_seconds = tf.Variable(0.0, dtype=tf.float64, trainable=False)
        self.learner = make_learner(c, self.model, self.optimizer, self.strategy,
                                    task_weights(self.mix, c.meta_batch, c.generated_weight))
        checkpoint = tf.train.Checkpoint(model=self.model, optimizer=self.optimizer,
                                         step=self.step, best_val=self.best_val,
                                         train_seconds=self.train_seconds)
        self.latest = self._manager(checkpoint, "ckpt", 3)
        self.best = self._manager(checkpoint, "best", 1)

    def _checkpoints(self, kind: str) -> str:
        """The run's folder of `kind` checkpoints (ckpt or best), which every worker reads."""
        return os.path.join(self.config.output_dir, kind)

    def _manager(self, checkpoint, kind: str, keep: int):
        """Saves `kind` checkpoints to the run folder or, on a worker other than the chief,
        to a temporary folder that `_save` deletes again."""
        folder = (self._checkpoints(kind) if self.chief else
                  os.path.join(tempfile.gettempdir(), f"ssml-worker{os.getpid()}-{kind}"))
        return tf.train.CheckpointManager(checkpoint, folder, keep)

    def _save(self, manager, step: int):
        manager.save(checkpoint_number=step)
        if not self.chief:
            tf.io.gfile.rmtree(manager.directory)

    # ----------------------------------------------------------------- data
    def _build_samplers(self):
        c, db = self.config, self.database
        train = db.train
        labeled_mask = labeled_images(c, train)
        train_shape = TaskShape(c.train_n_way, c.k_shot, c.train_query)
        self.labeled = label_budget.labeled_pool(train.labels, labeled_mask, train_shape.per_class)
        logging.info("Label budget %s=%g: %s; %d unlabeled images", c.label_scheme,
                     c.label_fraction, self.labeled.summary(), (~labeled_mask).sum())
        self.mix = mix_config(c)
        self.train_sampler = self.generated = None  # the streams this run does not use
        if self.mix.uses_labeled:
            self.train_sampler = self._labeled_sampler(train, train_shape)
        if self.mix.uses_generated:
            self.generated = generated_tasks(c, train_or_load_run_gan(c, train, labeled_mask),
                                             train_shape, train.images.shape[1:])
        eval_shape = TaskShape(c.n_way, c.k_shot, c.eval_query)
        self.val_sampler = TaskSampler(db.val.images, db.val.labels, eval_shape, "validation")
        self.test_sampler = TaskSampler(db.test.images, db.test.labels, eval_shape, "test")

    def _labeled_sampler(self, train, shape):
        c = self.config
        if self.labeled.num_classes < shape.n_way:
            raise ValueError(
                f"The label budget (--label_scheme={c.label_scheme} --label_fraction="
                f"{c.label_fraction:g}) leaves {self.labeled.num_classes} classes with at least "
                f"K + query = {shape.per_class} labeled images, fewer than the "
                f"{shape.n_way} ways of a training task (--n_way, --train_n_way). Raise "
                "--label_fraction, choose another --label_scheme, or lower --k_shot / "
                "--train_query.")
        idx = self.labeled.indices
        return TaskSampler(train.images[idx], train.labels[idx], shape, "labeled training tasks")

    def _train_batches(self, start_step: int):
        c = self.config
        labeled_seed = derive_seed(c.seed, "train_tasks")
        generated_seed = derive_seed(c.seed, "generated_tasks")

        def labeled(size, start):
            tasks = task_stream(self.train_sampler, labeled_seed, start=start * size)
            batches = meta_batches(tasks, size)
            if c.labeled_query_augmentation:
                shift_seed = derive_seed(c.seed, "labeled_query_shifts")
                batches = with_shifted_queries(batches, shift_seed, query_shift(c), start)
            return batches

        def generated(size, start):
            return generated_stream(self.generated, generated_seed, size, start)

        return mixed_stream(labeled, generated, self.mix, c.meta_batch, start_step)

    def eval_tasks(self, split: str):
        c = self.config
        sampler, count = ((self.val_sampler, c.num_val_tasks) if split == "val"
                          else (self.test_sampler, c.num_test_tasks))
        return task_stream(sampler, derive_seed(c.seed, f"{split}_tasks"), count=count).prefetch(8)

    # ----------------------------------------------------------------- training
    def _check_or_write_config(self):
        path = os.path.join(self.config.output_dir, "config.json")
        mine = dataclasses.asdict(self.config)
        if os.path.exists(path):
            with open(path) as f:
                theirs = json.load(f)
            # A setting the code gained after that run started is not compared: its
            # default keeps the behaviour that run had; nor is one the run never reads.
            free = resumable_fields() | unused_fields(mine)
            changed = sorted(k for k in mine
                             if k not in free and k in theirs and theirs[k] != mine[k])
            if changed:
                raise ValueError(
                    f"{self.config.output_dir} holds a run with other settings "
                    f"({', '.join(f'{k}: {theirs.get(k)!r} -> {mine[k]!r}' for k in changed)}). "
                    "Pass a new --output_dir, or the same flags to resume it.")
        if self.chief:
            write_json_atomic(path, mine)

    def _history(self):
        path = os.path.join(self.config.output_dir, "history.json")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            # Drop validations of steps the restored checkpoint had not reached.
            return [h for h in json.load(f) if h["step"] <= int(self.step.numpy())]

    def train(self):
        c = self.config
        self._check_or_write_config()
        latest = tf.train.latest_checkpoint(self._checkpoints("ckpt"))
        if latest:
            self.latest.checkpoint.restore(latest).assert_consumed()
            logging.info("Resuming %s from step %d.", c.output_dir, int(self.step.numpy()))
        history = self._history()
        start = int(self.step.numpy())
        train_writer, val_writer = self._writer("train"), self._writer("val")
        batches = iter(self.strategy.experimental_distribute_dataset(
            self._train_batches(start).with_options(_EACH_WORKER_ITS_SLICE)))
        clock, window = time.perf_counter(), []
        seconds_before = float(self.train_seconds.numpy())
        for step in range(start + 1, c.iterations + 1):
            t0 = time.perf_counter()
            support, query = next(batches)
            loss, acc, norm = self.learner.train_step(support, query)
            self.step.assign(step)
            window.append((float(loss), float(acc), time.perf_counter() - t0))
            if step % c.log_every == 0 or step == c.iterations:
                self._log_train(train_writer, step, window, norm, start, clock)
                window = []
            if step % c.image_every == 0 or step == start + 1:
                with train_writer.as_default(step=step):
                    local = self.strategy.experimental_local_results
                    tf.summary.image("training task (support | query)",
                                     summaries.task_grid(local(support)[0][0], local(query)[0][0]))
                    real_support, real_query = next(iter(self.eval_tasks("val")))
                    tf.summary.image("real validation task (support | query)",
                                     summaries.task_grid(real_support, real_query))
            if step % c.val_every == 0 or step == c.iterations:
                history.append(self._validate(val_writer, step))
            if step % c.checkpoint_every == 0 or step == c.iterations:
                self.train_seconds.assign(seconds_before + time.perf_counter() - clock)
                self._save_history(history)
                self._save(self.latest, step)
        return history

    def wait_for_every_worker(self):
        """Returns once every worker has called it (at once on one): workers that end while
        others still run are taken for crashed by TensorFlow's coordination service."""
        tf.function(lambda: self.strategy.reduce(
            tf.distribute.ReduceOp.SUM, self.strategy.run(tf.constant, args=(0.0,)), axis=None))()

    def _writer(self, name: str):
        """TensorBoard's writer of tb/`name`; the chief's alone writes."""
        if not self.chief:
            return tf.summary.create_noop_writer()
        return tf.summary.create_file_writer(os.path.join(self.config.output_dir, "tb", name))

    def _log_train(self, writer, step, window, norm, start, clock):
        c = self.config
        loss, acc, seconds = (float(np.mean(v)) for v in zip(*window))
        with writer.as_default(step=step):
            tf.summary.scalar("loss", loss)
            tf.summary.scalar("accuracy", acc)
            tf.summary.scalar("learning_rate", float(self.optimizer.learning_rate.numpy()))
            tf.summary.scalar("step_ms", 1000 * seconds)
            tf.summary.scalar("grad_norm", float(norm))
        elapsed = time.perf_counter() - clock
        eta = elapsed / (step - start) * (c.iterations - step)
        logging.info("step %d/%d (%.0f%%)  loss %.3f  acc %.3f  %.0f ms/step  elapsed %s  ETA %s",
                     step, c.iterations, 100 * step / c.iterations, loss, acc, 1000 * seconds,
                     _minutes(elapsed), _minutes(eta))

    def _validate(self, writer, step):
        c = self.config
        accuracies = self.learner.evaluate(self.eval_tasks("val"),
                                        InnerLoop(c.val_inner_steps, c.val_inner_lr))
        mean, ci = statistics.mean_ci95(accuracies)
        with writer.as_default(step=step):
            tf.summary.scalar("accuracy", mean)
        improved = mean > self.best_val.numpy()
        if improved:
            self.best_val.assign(mean)
            self._save(self.best, step)
        logging.info("validation at step %d: %.4f +- %.4f%s", step, mean, ci,
                     "  (best so far: saved)" if improved else "")
        return {"step": step, "val_accuracy": mean, "val_ci95": ci}

    def _save_history(self, history):
        if self.chief:
            write_json_atomic(os.path.join(self.config.output_dir, "history.json"), history)

    # ----------------------------------------------------------------- testing
    def _restore_for_test(self) -> str:
        name = self.config.eval_checkpoint
        path = {"best": tf.train.latest_checkpoint(self._checkpoints("best")),
                "latest": tf.train.latest_checkpoint(self._checkpoints("ckpt"))}.get(name, name)
        if path is None:
            if self.config.iterations > 0:
                raise FileNotFoundError(f"No {name!r} checkpoint in {self.config.output_dir}.")
            return "initial weights"
        tf.train.Checkpoint(model=self.model).restore(path).expect_partial()
        return path

    def test(self):
        """The checkpoint tested and its accuracy on each test task, in test-task order."""
        c = self.config
        checkpoint = self._restore_for_test()
        logging.info("Testing %s (%s) on %d fixed test tasks.", checkpoint, c.learner if
                     c.learner != "maml" else f"{c.test_inner_steps} inner steps",
                     c.num_test_tasks)
        report = lambda n: n % 100 == 0 and logging.info("  test task %d/%d", n, c.num_test_tasks)  # noqa
        accuracies = self.learner.evaluate(self.eval_tasks("test"),
                                        InnerLoop(c.test_inner_steps, c.test_inner_lr), report)
        return checkpoint, accuracies


def meta_learning_rate(c):
    """Adam's learning rate: constant, or halved every --meta_lr_halving meta-updates. A
    schedule reads the optimizer's own update count, which checkpoints restore, so a resumed
    run goes on at the rate it left off with."""
    if not c.meta_lr_halving:
        return c.meta_lr
    return tf.keras.optimizers.schedules.ExponentialDecay(
        c.meta_lr, decay_steps=c.meta_lr_halving, decay_rate=0.5, staircase=True)


def _minutes(seconds: float) -> str:
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


def run(config, database=None):
    """Train (or resume), test, and write ``results.json``; returns the results (None on a
    worker of --distribute=multi_worker other than the chief, which only trains)."""
    commit = results_lib.git_commit()  # before training: the code that ran, not later edits
    setup_start = time.perf_counter()
    trainer = Trainer(config, database)  # loads data, trains or loads the GAN
    setup_seconds = time.perf_counter() - setup_start
    if not trainer.chief:
        trainer.train()
        trainer.wait_for_every_worker()  # the chief tests and writes meanwhile
        return None
    busy = os.path.join(config.output_dir, ".lock")
    with file_lock.exclusive(busy, on_busy=lambda: _refuse_busy(config.output_dir)):
        results = _train_and_test(trainer, config, commit, setup_seconds)
    trainer.wait_for_every_worker()
    return results


def _refuse_busy(output_dir):
    raise ValueError(f"Another process is training in {output_dir} (it holds its .lock): "
                     "wait for it to end, or pass another --output_dir.")


def _train_and_test(trainer, config, commit, setup_seconds) -> dict:
    history = trainer.train()
    test_start = time.perf_counter()
    checkpoint, accuracies = trainer.test()
    seconds = dict(setup=setup_seconds, train=float(trainer.train_seconds.numpy()),
                   test=time.perf_counter() - test_start)
    results = results_lib.run_results(
        config, database=trainer.database, labeled=trainer.labeled, history=history,
        checkpoint=checkpoint, accuracies=accuracies, seconds=seconds, commit=commit)
    path = results_lib.save_run_results(config, results)
    logging.info("Test accuracy %.2f%% +- %.2f (%d tasks). Results: %s  TensorBoard: "
                 "tensorboard --logdir %s", 100 * results["test_accuracy"],
                 100 * results["test_ci95"], results["num_test_tasks"], path,
                 os.path.join(config.output_dir, "tb"))
    return results
