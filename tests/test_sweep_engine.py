"""The sweep's cells as jobs of submitit's local executor (meta/sweep_engines.py): the same
results as the sequential runner's; a killed cell is reported with its log and rerun by
the next invocation, finished cells are not; what cannot run here fails at once."""
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import submitit
import tensorflow as tf

import synthetic
from meta.sweep_engines import Engine, Job
from run_scripts import sweep
from util import fake_run

TESTS = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(TESTS)
LOCAL = Engine("submitit", "local", parallel=2)
# Real runs, as small as run_scripts.train allows: 2-way tasks on 3 classes of 2 images.
TINY_RUN = ("--n_way=2", "--train_query=1", "--eval_query=1", "--meta_batch=2",
            "--iterations=2", "--val_every=2", "--num_val_tasks=2", "--num_test_tasks=3",
            "--learner=protonets")


@pytest.fixture(autouse=True)
def jobs_import_tests(monkeypatch):
    """Jobs unpickle the functions of this folder's modules: let them import them."""
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [TESTS, *filter(None, [os.environ.get("PYTHONPATH")])]))


def test_submitit_runs_cells_as_the_sequential_runner_does(tmp_path):
    data = tmp_path / "data"
    synthetic.write_raw_mini_imagenet(
        data, {split: [f"n{split}{i}" for i in range(3)] for split in ("train", "val", "test")}, 2)
    grid = sweep.cells("mini_imagenet", ["labeled_only"], ["classes"], [0.5, 1.0], [0],
                       [f"--data_dir={data}", *TINY_RUN])
    for engine in (Engine(), LOCAL):
        assert sweep.sweep(grid, str(tmp_path / engine.name / "results"),
                           str(tmp_path / engine.name / "runs"), engine=engine) == []
    for name, _ in grid:
        ours, theirs = (json.loads((tmp_path / engine / "results" / f"{name}.json").read_text())
                        for engine in ("sequential", "submitit"))
        for key in ("test_accuracy", "test_task_accuracies", "val_history", "labeled_classes"):
            assert ours[key] == theirs[key], key
        assert os.path.basename(ours["checkpoint"]) == os.path.basename(theirs["checkpoint"])
        ours, theirs = (tf.train.load_checkpoint(str(tmp_path / engine / "runs" / name / "ckpt"))
                        for engine in ("sequential", "submitit"))
        for variable in ours.get_variable_to_shape_map():
            if variable.startswith(("model/", "optimizer/")):
                np.testing.assert_array_equal(ours.get_tensor(variable),
                                              theirs.get_tensor(variable))


def killed_once(args):
    """A stand-in cell run that records each call, and whose first run of seed 1 is killed
    (SIGKILL, as by the out-of-memory killer)."""
    output_dir = next(a.split("=", 1)[1] for a in args if a.startswith("--output_dir="))
    calls = os.path.join(os.path.dirname(output_dir), "calls.txt")
    first = not os.path.exists(calls) or output_dir not in open(calls).read()
    with open(calls, "a") as f:
        f.write(output_dir + "\n")
    if first and output_dir.endswith("seed1"):
        os.kill(os.getpid(), signal.SIGKILL)
    return fake_run(args)


def test_a_killed_cell_is_reported_and_rerun_and_finished_cells_are_not(tmp_path, capsys):
    grid = sweep.cells("omniglot", ["labeled_only"], ["classes"], [0.05], [0, 1])
    results, runs = str(tmp_path / "results"), str(tmp_path / "runs")
    [failure] = sweep.sweep(grid, results, runs, killed_once, engine=LOCAL)
    assert failure.name.endswith("seed1") and "killed" in failure.error
    assert os.path.dirname(failure.log) == os.path.join(runs, failure.name, "jobs")
    assert f"{failure.name} failed" in capsys.readouterr().out
    assert os.listdir(results) == [f"{grid[0][0]}.json"]
    assert sweep.sweep(grid, results, runs, killed_once, engine=LOCAL) == []
    calls = (tmp_path / "runs" / "calls.txt").read_text().split()
    assert sorted(os.path.basename(c) for c in calls) == sorted(
        [grid[0][0], grid[1][0], grid[1][0]])
    assert sorted(os.listdir(results)) == sorted(f"{name}.json" for name, _ in grid)


def on_path(monkeypatch, folder, *commands):
    """Puts stand-ins for `commands` first on PATH."""
    for command in commands:
        (folder / command).write_text("#!/bin/sh\nexit 1\n")
        (folder / command).chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


def sbatch_lines(engine, folder):
    """The #SBATCH lines submitit would submit a job of `engine` with."""
    executor = engine._executor(submitit, Job("cell", print, str(folder)))
    text = executor._executor._make_submission_file_text("command", "uid")
    return {line.split()[1] for line in text.splitlines() if line.startswith("#SBATCH")}


def test_slurm_jobs_ask_for_the_cells_resources(tmp_path, monkeypatch):
    """No cluster here: the job script submitit would submit, not its run."""
    on_path(monkeypatch, tmp_path, "sbatch", "srun")
    lines = sbatch_lines(Engine("submitit", "slurm", cpus=8, gpus=1, memory_gb=32, minutes=600,
                                partition="gpu"), tmp_path / "jobs")
    assert {"--cpus-per-task=8", "--gpus-per-node=1", "--mem=32GB", "--time=600",
            "--partition=gpu", "--job-name=cell"} <= lines
    lines = sbatch_lines(Engine("submitit", "slurm"), tmp_path / "jobs")
    assert not [line for line in lines if line.startswith(("--gpus", "--partition"))]


def test_what_cannot_run_here_fails_at_once(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="--executor=slurm"):
        Engine("submitit", partition="gpu")
    path = os.environ["PATH"]
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ValueError, match="sbatch and srun not on PATH"):
        Engine("submitit", "slurm")
    on_path(monkeypatch, tmp_path, "sbatch")
    with pytest.raises(ValueError, match="srun not on PATH"):
        Engine("submitit", "slurm")
    monkeypatch.setenv("PATH", path)
    monkeypatch.setitem(sys.modules, "submitit", None)  # as if not installed
    with pytest.raises(ValueError, match="needs the submitit package"):
        Engine("submitit")
    Engine()  # the sequential runner needs nothing
    out = subprocess.run([sys.executable, "-m", "run_scripts.sweep", "--cell_gpus=1",
                          "--dry_run"], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 1 and out.stderr.splitlines()[-1] == \
        "Error: Only --engine=submitit reads --cell_gpus: add --engine=submitit, or leave out " \
        "--cell_gpus."
