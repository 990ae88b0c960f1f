"""The label-fraction study: methods x label schemes x fractions x seeds, one run per cell.

    bash run_scripts/omniglot_sweep.sh [--seeds=0,1] [--fractions=...] [-- --iterations=1000]

Flags after `--` go to every run. Each cell is one `python -m run_scripts.train` run in
``<runs_dir>/<cell>``; its results JSON is copied to ``<results_dir>/<cell>.json``. A
cell whose JSON exists is skipped, so an interrupted sweep resumes where it stopped (and
an interrupted cell resumes from its last checkpoint). A cell is named as run folders are
(meta.config.run_name: method, mix for SSML, GAN, shifts, scheme, fraction, seed), so
sweeps of several mixes share one results folder and its labeled-only cells. A JSON made
with other settings of the flags its method reads is an error, never silently reused.

At fraction 0 every method is unsupervised LASIUM, so that cell is run once per seed; at
fraction 1 every scheme keeps all labels, so that cell is run for one scheme only.
Afterwards `python -m run_scripts.plot_results <results_dir>/*.json` draws the study.
"""
import dataclasses
import json
import os
import subprocess
import sys

from absl import app, flags

from infra.atomic_io import write_json_atomic
from infra.entry_point import run_main
from meta import config as config_lib
from meta.results import reproduce_command
from tasks.label_budget import SCHEMES

FLAGS = flags.FLAGS


def cells(dataset, methods, schemes, fractions, seeds, extra=()):
    """(name, train flags) of every distinct run of the grid; `extra` flags go to every run.
    Contradicting flags fail here, before any run."""
    out = {}
    for seed in seeds:
        for fraction in fractions:
            for scheme in (schemes if 0 < fraction < 1 else schemes[:1]):
                for method in (methods if fraction > 0 else ["lasium"]):
                    args = [f"--dataset={dataset}", f"--method={method}",
                            f"--label_scheme={scheme}", f"--label_fraction={fraction:g}",
                            f"--seed={seed}", *extra]
                    out[config_lib.run_name(dataclasses.asdict(config_lib.config_from_args(*args)))] = args
    return list(out.items())


def _settings(config: dict) -> dict:
    """The settings that decide what a run computes."""
    ignored = config_lib.bookkeeping_fields() | config_lib.unused_fields(config)
    return {k: v for k, v in config.items() if k not in ignored}


def done(path: str, args) -> bool:
    """Whether the cell has results made with exactly these settings (flags added to the
    code since that run are not compared: a new flag's default keeps the old behaviour)."""
    if not os.path.exists(path):
        return False
    with open(path) as f:
        theirs = _settings(json.load(f)["config"])
    mine = _settings(dataclasses.asdict(config_lib.config_from_args(*args)))
    changed = sorted(k for k in mine if k in theirs and theirs[k] != mine[k])
    if changed:
        raise ValueError(f"{path} was made with other settings ({', '.join(changed)}). Move it "
                         "away, or pass another --results_dir for a sweep with these flags.")
    return True


def train(args) -> str:
    """Runs one cell in a fresh process; returns the path of its results JSON."""
    env = dict(os.environ, SSML_RUN_COMMAND=reproduce_command("run_scripts.train", args))
    subprocess.run([sys.executable, "-m", "run_scripts.train", *args], env=env, check=True)
    output_dir = next(a.split("=", 1)[1] for a in args if a.startswith("--output_dir="))
    return os.path.join(output_dir, "results.json")


def sweep(grid, results_dir, runs_dir, run=train, dry_run=False):
    """Runs the cells without results; returns the names of those that failed."""
    todo = []
    for name, args in grid:
        args = [*args, f"--output_dir={os.path.join(runs_dir, name)}"]
        if not done(os.path.join(results_dir, f"{name}.json"), args):
            todo.append((name, args))
    print(f"{len(grid)} cells, {len(grid) - len(todo)} done, {len(todo)} to run.", flush=True)
    failed = []
    for i, (name, args) in enumerate(todo, 1):
        print(f"[{i}/{len(todo)}] {name}: {reproduce_command('run_scripts.train', args)}", flush=True)
        if dry_run:
            continue
        try:
            with open(run(args)) as f:
                write_json_atomic(os.path.join(results_dir, f"{name}.json"), json.load(f))
        except subprocess.CalledProcessError as e:
            print(f"[{i}/{len(todo)}] {name} failed (exit {e.returncode}); going on.", flush=True)
            failed.append(name)
    return failed


def main(argv):
    extra = argv[1:]
    bad = [a for a in extra if not a.startswith("--")]
    if bad:
        raise app.UsageError(f"Unknown arguments {bad}: flags for the runs go after `--`.")
    grid = cells(FLAGS.dataset, FLAGS.methods, FLAGS.schemes,
                 sorted(float(f) for f in FLAGS.fractions), [int(s) for s in FLAGS.seeds], extra)
    results_dir = FLAGS.results_dir or os.path.join("results", FLAGS.dataset, "sweep")
    failed = sweep(grid, results_dir, FLAGS.runs_dir, dry_run=FLAGS.dry_run)
    if failed:
        sys.exit(f"{len(failed)} cells failed: {', '.join(failed)}. Their errors are above; "
                 "rerun the sweep to retry them.")
    if FLAGS.dry_run:
        return
    print(f"Sweep complete. Plot: python -m run_scripts.plot_results {results_dir}/*.json")


def define_flags():
    """Defined when run, not on import, so that tests can import this beside other tools."""
    flags.DEFINE_string("dataset", "omniglot", "Data set of every run.")
    flags.DEFINE_list("methods", ["labeled_only", "ssml"], "Methods with labels (fraction > 0).")
    flags.DEFINE_list("schemes", list(SCHEMES), "Label schemes.")
    flags.DEFINE_list("fractions", ["0", "0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"],
                      "Label fractions.")
    flags.DEFINE_list("seeds", ["0", "1"], "Seeds.")
    flags.DEFINE_string("results_dir", None, "Results JSONs (default results/<dataset>/sweep).")
    flags.DEFINE_string("runs_dir", "runs/sweep", "Run folders (checkpoints, TensorBoard).")
    flags.DEFINE_bool("dry_run", False, "List the cells and what would run, run nothing.")


if __name__ == "__main__":
    define_flags()
    run_main(main)
