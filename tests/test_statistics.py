import numpy as np
import pytest

from meta import statistics
from meta.statistics import mean_ci95


def test_ci95_is_1_96_std_over_sqrt_n():
    accuracies = [0.2, 0.4, 0.6, 0.8, 1.0]
    mean, ci = mean_ci95(accuracies)
    assert mean == pytest.approx(0.6)
    assert ci == pytest.approx(1.96 * np.sqrt(0.08) / np.sqrt(5))  # population std 0.2828
    assert mean_ci95([0.7] * 10) == (pytest.approx(0.7), 0.0)
    with pytest.raises(ValueError):
        mean_ci95([])


@pytest.mark.parametrize("df, t", [(1, 12.7062), (2, 4.3027), (4, 2.7764), (29, 2.0452),
                                   (1000, 1.9623)])
def test_t_quantile_matches_the_tables(df, t):
    assert statistics.t_quantile(df) == pytest.approx(t, abs=1e-4)


def test_mean_t_interval_by_hand():
    # 1, 3, 5: mean 3, sample std 2, half-width t(2) * 2 / sqrt(3).
    assert statistics.mean_t_interval([1, 3, 5]) == pytest.approx((3, 4.302653 * 2 / 3 ** 0.5))
    mean, half = statistics.mean_t_interval([0.7])
    assert mean == 0.7 and np.isnan(half)


def test_paired_difference_needs_per_task_accuracies_on_the_same_tasks():
    tasks = dict(dataset="omniglot", seed=0, count=3)
    a = dict(test_task_accuracies=[0.5, 0.7, 0.9], test_tasks=tasks)
    b = dict(test_task_accuracies=[0.5, 0.6, 0.7], test_tasks=tasks)
    # Differences 0, 0.1, 0.2: mean 0.1, sample std 0.1, half-width t(2) * 0.1 / sqrt(3).
    assert statistics.paired_difference(a, b) == pytest.approx((0.1, 4.302653 * 0.1 / 3 ** 0.5))
    with pytest.raises(ValueError, match="different tasks"):
        statistics.paired_difference(a, dict(b, test_tasks=dict(tasks, seed=1)))
    with pytest.raises(ValueError, match="per-task"):
        statistics.paired_difference(a, dict(test_accuracy=0.6))


def test_difference_of_runs_from_before_per_task_accuracies_has_no_interval():
    tasks = dict(dataset="omniglot", seed=0, count=2)
    a = dict(test_accuracy=0.8, test_task_accuracies=[0.7, 0.9], test_tasks=tasks)
    assert statistics.run_difference(a, dict(test_accuracy=0.6))[0] == pytest.approx(0.2)
    assert np.isnan(statistics.run_difference(a, dict(test_accuracy=0.6))[1])
    with pytest.raises(ValueError, match="different tasks"):
        statistics.run_difference(a, dict(a, test_tasks=dict(tasks, seed=1)))


def test_over_seeds_is_a_t_interval_or_one_seeds_own():
    assert statistics.over_seeds([(0.7, 0.05)]) == (0.7, 0.05, "test tasks")
    mean, half, over = statistics.over_seeds([(1, 0.1), (3, 0.1), (5, 0.1)])
    assert (mean, half, over) == (pytest.approx(3), pytest.approx(4.302653 * 2 / 3 ** 0.5),
                                  "3 seeds")
