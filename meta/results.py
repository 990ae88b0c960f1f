"""A run's results JSON: the keys that sweeps, reports and plots rely on, its provenance (the
commit and the command that made it), what fixes its test tasks, and its assembly from a
finished run."""
import dataclasses
import os
import resource
import shlex
import subprocess
import sys

import tensorflow as tf
from tensorboard.plugins.hparams import api as hparams_api

from infra.atomic_io import write_json_atomic
from meta.process import ONEDNN
from meta.statistics import mean_ci95

# Keys every results JSON has; later tools (sweep, plots) rely on them.
REQUIRED_KEYS = ("dataset", "method", "label_scheme", "label_fraction", "n_way", "k_shot",
                 "test_accuracy", "test_ci95", "num_test_tasks", "seed", "iterations",
                 "wall_seconds", "command", "git_commit", "data_source", "config")


def check_results(results: dict) -> None:
    missing = [k for k in REQUIRED_KEYS if k not in results]
    if missing:
        raise ValueError(f"results lack the keys {missing}")


def git_commit() -> str:
    """HEAD of the checkout this code runs from, marked '-dirty' with local changes."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=here, capture_output=True,  # noqa
                                        text=True, check=True).stdout.strip()
        commit = run("rev-parse", "HEAD")
        return commit + ("-dirty" if run("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def test_task_identity(c, database) -> dict:
    """What fixes the test tasks of run configuration `c`: runs with equal identities were
    tested on the same tasks, in the same order, so their per-task accuracies can be paired."""
    return {"dataset": c.dataset, "data": os.path.basename(database.source),
            "omniglot_split": c.omniglot_split if c.dataset == "omniglot" else None,
            "seed": c.seed, "count": c.num_test_tasks, "n_way": c.n_way,
            "k_shot": c.k_shot, "query": c.eval_query}


def run_results(c, *, database, labeled, history, checkpoint, accuracies, seconds,
                commit) -> dict:
    """The results JSON of a finished run of configuration `c`: `labeled` is its labeled
    pool, `accuracies` one per test task (in test-task order), `seconds` the set-up, training
    and test times, `commit` the code's commit when the run started."""
    mean, ci = mean_ci95(accuracies)
    return {
        "dataset": c.dataset, "method": c.method, "label_scheme": c.label_scheme,
        "label_fraction": c.label_fraction, "n_way": c.n_way, "k_shot": c.k_shot,
        "seed": c.seed, "iterations": c.iterations,
        # This invocation's set-up (data, GAN training unless cached) and test, plus the
        # training over all resumptions (validation included).
        "wall_seconds": seconds["setup"] + seconds["train"] + seconds["test"],
        "setup_seconds": seconds["setup"], "train_seconds": seconds["train"],
        "test_seconds": seconds["test"],
        "command": command_line(),
        "git_commit": commit, "data_source": database.source,
        "config": dataclasses.asdict(c), "val_history": history,
        # Peak resident memory of this process (Linux reports KiB).
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        # oneDNN or Eigen CPU kernels ("unset": TensorFlow chose); they differ in the last bits.
        "tf_enable_onednn_opts": os.environ.get(ONEDNN, "unset"),
        "labeled_images": labeled.num_labeled, "labeled_classes": labeled.num_classes,
        "test_accuracy": mean, "test_ci95": ci, "num_test_tasks": len(accuracies),
        "checkpoint": checkpoint, "test_tasks": test_task_identity(c, database),
        # One per test task, in test-task order, for paired comparisons.
        "test_task_accuracies": [round(a, 6) for a in accuracies],
    }


def save_run_results(c, results: dict) -> str:
    """Checks the results of run configuration `c`, records them for TensorBoard's HParams
    dashboard and writes ``results.json`` in its run folder; returns that file's path."""
    check_results(results)
    _log_hparams(c, results)
    path = os.path.join(c.output_dir, "results.json")
    write_json_atomic(path, results)
    return path


def _log_hparams(c, results):
    """The run's flags and final metrics for TensorBoard's HParams dashboard, so runs of a
    sweep can be compared there (`tensorboard --logdir runs`)."""
    flags = {k: v for k, v in dataclasses.asdict(c).items()
             if isinstance(v, (bool, int, float, str))}
    with tf.summary.create_file_writer(os.path.join(c.output_dir, "tb", "hparams")).as_default():
        hparams_api.hparams(flags, trial_id=c.output_dir)
        for key in ("test_accuracy", "test_ci95"):
            tf.summary.scalar(key, results[key], step=c.iterations)


def reproduce_command(module: str, args) -> str:
    """`python -m <module> <args>` as one types it from the repository root, each argument
    quoted for the shell."""
    return " ".join(["python", "-m", module, *map(shlex.quote, args)])


def command_line(args=None) -> str:
    """The command that reproduces what this program makes: the one a run_scripts/*.sh was
    called with (it sets SSML_RUN_COMMAND), else `python -m run_scripts.<this script>` with
    `args` (default: all its arguments)."""
    command = os.environ.get("SSML_RUN_COMMAND")
    if command:
        return command
    script = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    return reproduce_command(f"run_scripts.{script}", sys.argv[1:] if args is None else args)
