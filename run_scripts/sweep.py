"""The label-fraction study: methods x label schemes x fractions x seeds, one run per cell.

    bash run_scripts/omniglot_sweep.sh [--seeds=0,1] [--fractions=...] [-- --iterations=1000]

Flags after `--` go to every run. Each cell is one `python -m run_scripts.train` run in
``<runs_dir>/<cell>``; its results JSON is copied to ``<results_dir>/<cell>.json``. A
cell whose JSON exists is skipped, so an interrupted sweep resumes where it stopped (and
an interrupted cell resumes from its last checkpoint). The cells run one after another
here, or as jobs of their own on submitit (`--engine=submitit`: on this machine, or on a
Slurm cluster with `--executor=slurm`; meta/sweep_engines.py); a failed cell is reported
with its log, the others go on, and the next invocation retries it. A cell is named as
run folders are (meta.config.run_name: method, mix for SSML, GAN, shifts, scheme, fraction,
seed), so sweeps of several mixes share one results folder and its labeled-only cells, and
no two cells share a run folder. A JSON made with other settings of the flags its method
reads is an error, never silently reused.

At fraction 0 every method is unsupervised LASIUM, so that cell is run once per seed; at
fraction 1 every scheme keeps all labels, so that cell is run for one scheme only.
Afterwards `python -m run_scripts.plot_results <results_dir>/*.json` draws the study.
"""
import dataclasses
import functools
import json
import os
import subprocess
import sys

from absl import app, flags

from infra.atomic_io import write_json_atomic
from infra.entry_point import run_main
from meta import config as config_lib
from meta.results import reproduce_command
from meta.sweep_engines import ENGINES, EXECUTORS, Engine, Job
from tasks.label_budget import SCHEMES

FLAGS = flags.FLAGS
# The flags only --engine=submitit reads.
SUBMITIT_FLAGS = ("executor", "parallel", "cell_cpus", "cell_gpus", "cell_memory_gb",
                  "cell_minutes", "slurm_partition")


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


def run_cell(run, args, results_path):
    """One cell, as an engine runs it: `run(args)`, which returns the path of the run's
    results JSON, then a copy of that JSON at `results_path`."""
    with open(run(args)) as f:
        write_json_atomic(results_path, json.load(f))


def sweep(grid, results_dir, runs_dir, run=train, dry_run=False, engine=Engine()):
    """Runs the cells without results on `engine`; returns the failures (sweep_engines)."""
    jobs = []
    for name, args in grid:
        args = [*args, f"--output_dir={os.path.join(runs_dir, name)}"]
        results_path = os.path.join(results_dir, f"{name}.json")
        if not done(results_path, args):
            print(f"{name}: {reproduce_command('run_scripts.train', args)}", flush=True)
            jobs.append(Job(name, functools.partial(run_cell, run, args, results_path),
                            os.path.join(runs_dir, name, "jobs")))
    print(f"{len(grid)} cells, {len(grid) - len(jobs)} done, {len(jobs)} to run.", flush=True)
    return [] if dry_run else engine.run(jobs)


def engine_from_flags() -> Engine:
    """The engine the flags ask for; submitit's flags without it are refused."""
    given = ", ".join(f"--{name}" for name in SUBMITIT_FLAGS if FLAGS[name].present)
    if FLAGS.engine == "sequential" and given:
        raise ValueError(f"Only --engine=submitit reads {given}: add --engine=submitit, or "
                         f"leave out {given}.")
    return Engine(FLAGS.engine, FLAGS.executor, FLAGS.cell_cpus, FLAGS.cell_gpus,
                  FLAGS.cell_memory_gb, FLAGS.cell_minutes, FLAGS.slurm_partition, FLAGS.parallel)


def main(argv):
    extra = argv[1:]
    bad = [a for a in extra if not a.startswith("--")]
    if bad:
        raise app.UsageError(f"Unknown arguments {bad}: flags for the runs go after `--`.")
    engine = engine_from_flags()
    grid = cells(FLAGS.dataset, FLAGS.methods, FLAGS.schemes,
                 sorted(float(f) for f in FLAGS.fractions), [int(s) for s in FLAGS.seeds], extra)
    results_dir = FLAGS.results_dir or os.path.join("results", FLAGS.dataset, "sweep")
    failed = sweep(grid, results_dir, FLAGS.runs_dir, dry_run=FLAGS.dry_run, engine=engine)
    if failed:
        sys.exit(f"{len(failed)} cells failed; rerun the sweep to retry them:\n" + "\n".join(
            f"  {f.name}: {f.error}; " + (f"log {f.log}" if f.log else "its output is above")
            for f in failed))
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
    flags.DEFINE_enum("engine", "sequential", ENGINES, "sequential: one cell after another in "
                      "this process; submitit: each cell a job of its own, on --executor.")
    flags.DEFINE_enum("executor", "local", EXECUTORS, "submitit's executor: local (processes "
                      "on this machine, --parallel at a time) or slurm (jobs on a Slurm "
                      "cluster: run the sweep on its login node).")
    flags.DEFINE_integer("parallel", 0, "Cells at once; 0: locally as many as the cores fit "
                         "(cores // --cell_cpus), on Slurm every cell.", lower_bound=0)
    flags.DEFINE_integer("cell_cpus", 2, "Cores per cell (locally they only set --parallel's "
                         "default).", lower_bound=1)
    flags.DEFINE_integer("cell_gpus", 0, "GPUs per cell (locally every cell sees the first "
                         "ones).", lower_bound=0)
    flags.DEFINE_float("cell_memory_gb", 8.0, "Memory per cell (Slurm only: locally it is not "
                       "limited).", lower_bound=0.1)
    flags.DEFINE_integer("cell_minutes", 240, "Time limit per cell: a cell stopped by it is "
                         "reported as failed, and the next invocation resumes it from its last "
                         "checkpoint.", lower_bound=1)
    flags.DEFINE_string("slurm_partition", None, "Slurm partition of the cells' jobs (default: "
                        "the cluster's).")


if __name__ == "__main__":
    define_flags()
    run_main(main)
