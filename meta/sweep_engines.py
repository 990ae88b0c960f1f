"""Where a sweep's cells run: each cell is a job, run by an engine.

`sequential` (the default, which needs nothing) runs the jobs in this process, one after
another. `submitit` makes each job a process of its own through the submitit package, on
one of its executors: `local` runs them on this machine, `parallel` at a time; `slurm`
submits them to a Slurm cluster, which schedules them. Each job gets the resources asked
for (cores, GPUs, memory, minutes: Slurm reads them all; locally the cores only set how
many run at once, every job sees the first `gpus` GPUs, and memory is not limited) and
writes its log in its own folder.

A job that fails, raises or is killed (out of memory or time, by hand) is reported with
its error and log, and the others go on; what a failure means for the sweep is the
caller's to say. Jobs are functions without arguments; for submitit they must pickle
(a module's function, or a functools.partial of one)."""
import dataclasses
import functools
import os
import shutil
import subprocess
import time
import traceback
from typing import Callable, List, Optional

ENGINES = ("sequential", "submitit")
EXECUTORS = ("local", "slurm")
POLL_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class Job:
    name: str
    function: Callable[[], object]
    folder: str  # for submitit: its pickles and its log


@dataclasses.dataclass(frozen=True)
class Failure:
    name: str
    error: str  # one line
    log: Optional[str] = None  # None: the job ran in this process, its output is above


@dataclasses.dataclass(frozen=True)
class Engine:
    name: str = "sequential"
    executor: str = "local"
    cpus: int = 2
    gpus: int = 0
    memory_gb: float = 8.0
    minutes: int = 240
    partition: Optional[str] = None
    parallel: int = 0  # jobs at once; 0: locally as many as the cores fit, on Slurm all

    def __post_init__(self):
        """Fails at once, saying what to change, on what cannot run here."""
        if self.partition and self.executor != "slurm":
            raise ValueError("--slurm_partition is for --executor=slurm: add that, or drop "
                             "the partition.")
        if self.name != "submitit":
            return
        _submitit()
        missing = [command for command in ("sbatch", "srun")
                   if self.executor == "slurm" and not shutil.which(command)]
        if missing:
            raise ValueError(f"--executor=slurm needs Slurm, and {' and '.join(missing)} not "
                             "on PATH: run the sweep on the cluster's login node, or use "
                             "--executor=local.")

    def run(self, jobs: List[Job]) -> List[Failure]:
        """Runs `jobs`; returns the failures."""
        if self.name == "sequential":
            return self._run_here(jobs)
        return self._run_on_submitit(jobs)

    def _run_here(self, jobs):
        failures = []
        for i, job in enumerate(jobs, 1):
            print(f"[{i}/{len(jobs)}] {job.name}", flush=True)
            error = run_reporting_errors(job.function)
            if error:
                print(f"{job.name} failed ({error}); going on.", flush=True)
                failures.append(Failure(job.name, error))
        return failures

    def _run_on_submitit(self, jobs):
        submitit = _submitit()
        parallel = self.parallel or (max(1, len(os.sched_getaffinity(0)) // self.cpus)
                                     if self.executor == "local" else len(jobs))
        waiting, running, failures = list(jobs), [], []
        while waiting or running:
            while waiting and len(running) < parallel:
                job = waiting.pop(0)
                handle = self._executor(submitit, job).submit(
                    functools.partial(run_reporting_errors, job.function))
                print(f"[{len(jobs) - len(waiting)}/{len(jobs)}] {job.name}: job {handle.job_id}, "
                      f"log {handle.paths.stdout}", flush=True)
                running.append((job, handle))
            time.sleep(POLL_SECONDS)
            for job, handle in [r for r in running if r[1].done()]:
                running.remove((job, handle))
                error = _outcome(submitit, handle)
                if error:
                    failures.append(Failure(job.name, error, str(handle.paths.stdout)))
                    print(f"{job.name} failed ({error}); log {handle.paths.stdout}", flush=True)
                else:
                    print(f"{job.name} done.", flush=True)
        return failures

    def _executor(self, submitit, job):
        executor = submitit.AutoExecutor(folder=job.folder, cluster=self.executor)
        # None is unset: no GPU line for clusters without GPUs, the cluster's own partition.
        executor.update_parameters(name=job.name, timeout_min=self.minutes,
                                   cpus_per_task=self.cpus, gpus_per_node=self.gpus or None,
                                   mem_gb=self.memory_gb, stderr_to_stdout=True,
                                   slurm_partition=self.partition)
        return executor


def run_reporting_errors(function) -> Optional[str]:
    """Runs `function`; None, or its error as one line. The traceback goes to the output
    (a job's log) unless a process it ran failed: that process's own output says why."""
    try:
        function()
    except subprocess.CalledProcessError as error:
        return f"exit status {error.returncode}"
    except Exception as error:  # noqa: B902 -- any error of one job is that job's failure
        traceback.print_exc()
        return f"{type(error).__name__}: {error}".splitlines()[0]
    return None


def _outcome(submitit, handle) -> Optional[str]:
    """The error of a finished submitit job, as one line, or None."""
    try:
        return handle.result()
    except submitit.core.utils.FailedJobError:
        return "its job failed before or after the cell ran"
    except submitit.core.utils.UncompletedJobError:
        return "its job ended without a result (killed, out of memory or out of time)"


def _submitit():
    try:
        import submitit
    except ImportError:
        raise ValueError("--engine=submitit needs the submitit package, which the set-up "
                         "installs (bash run_scripts/test.sh): run it, or pip install "
                         "submitit.") from None
    return submitit
