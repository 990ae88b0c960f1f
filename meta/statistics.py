"""Intervals for test accuracies: one run over its test tasks, two runs paired on the same
test tasks, and a difference or an accuracy over seeds.

A run's test tasks are a fixed sample, the same for every run of one seed; a seed also fixes
the data split, the labeled subset, the GAN and the initialization. So a comparison of two
methods has two sources of noise: which test tasks (removed by pairing the runs task by
task) and which seed (only more seeds shrink it). The across-seed interval is the one that
says whether A beats B; the per-seed paired interval says how sure one seed is.
"""
import functools
import math

import numpy as np

CONFIDENCE = 0.95


def mean_ci95(accuracies):
    """Mean and 95% confidence half-width, 1.96 * std / sqrt(n) (population std): the
    original LASIUM's summary of one run over its test tasks."""
    a = np.asarray(accuracies, dtype=np.float64)
    if a.size == 0:
        raise ValueError("no accuracies to summarize")
    return float(a.mean()), float(1.96 * a.std() / np.sqrt(a.size))


def _t_two_sided(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with df degrees of freedom (Simpson's rule on the density,
    which is smooth, so 2,000 intervals give about 12 digits)."""
    scale = math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)) / math.sqrt(df * math.pi)
    density = lambda x: scale * (1 + x * x / df) ** (-(df + 1) / 2)  # noqa: E731
    n = 2000
    h = t / n
    inner = sum((4 if i % 2 else 2) * density(i * h) for i in range(1, n))
    return 2 * h / 3 * (density(0) + inner + density(t))


@functools.lru_cache(maxsize=None)
def t_quantile(df: int, confidence: float = CONFIDENCE) -> float:
    """The t with P(|T| < t) = confidence: the multiplier of a two-sided t-interval."""
    if df < 1:
        raise ValueError(f"a t-interval needs at least 1 degree of freedom, got {df}")
    low, high = 0.0, 1.0
    while _t_two_sided(high, df) < confidence:
        high *= 2
    for _ in range(60):  # bisection to well below the digits anyone reads
        mid = (low + high) / 2
        low, high = (mid, high) if _t_two_sided(mid, df) < confidence else (low, mid)
    return (low + high) / 2


def mean_t_interval(values):
    """Mean and t-interval half-width (sample std, n - 1 degrees of freedom); the
    half-width is nan for a single value, whose spread is unknown."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        raise ValueError("no values to summarize")
    if v.size == 1:
        return float(v[0]), math.nan
    return float(v.mean()), t_quantile(v.size - 1) * float(v.std(ddof=1)) / math.sqrt(v.size)


def paired_difference(a: dict, b: dict):
    """Test accuracy of run a minus run b, task by task on their common test tasks: the mean
    difference and its t-interval over tasks. Refuses runs whose test tasks differ or that
    kept no per-task accuracies."""
    for run in (a, b):
        if "test_task_accuracies" not in run or "test_tasks" not in run:
            raise ValueError(f"{run.get('command', 'a run')}: no per-task test accuracies "
                             "(results from before they were recorded); rerun it to pair it.")
    if a["test_tasks"] != b["test_tasks"]:
        raise ValueError(f"Runs tested on different tasks cannot be paired: {a['test_tasks']} "
                         f"against {b['test_tasks']}.")
    return mean_t_interval(np.subtract(a["test_task_accuracies"], b["test_task_accuracies"]))


def run_difference(a: dict, b: dict):
    """Test accuracy of run a minus run b: paired task by task, with its t-interval over
    tasks; for runs from before per-task accuracies were kept, the difference of their means,
    without interval (nan). Refuses runs that both kept them but on different tasks."""
    try:
        return paired_difference(a, b)
    except ValueError:
        if "test_task_accuracies" in a and "test_task_accuracies" in b:
            raise
        return a["test_accuracy"] - b["test_accuracy"], math.nan


def over_seeds(per_seed):
    """A value over seeds, from each seed's (value, 95% half-width over its test tasks): the
    mean with the t-interval over the seeds, which holds the seed-to-seed spread, and what
    the interval is over; one seed only has its test tasks' interval."""
    if len(per_seed) == 1:
        value, half = per_seed[0]
        return value, half, "test tasks"
    mean, half = mean_t_interval([value for value, _ in per_seed])
    return mean, half, f"{len(per_seed)} seeds"
