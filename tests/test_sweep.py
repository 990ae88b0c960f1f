import json
import math
import os

import pytest

from meta.config import GENERATED_CPU_PRESETS
from run_scripts import plot_results, sweep
from util import fake_run, results

# The CPU preset's GAN epochs, as run names spell them.
GAN = f"gan{GENERATED_CPU_PRESETS['omniglot']['gan_epochs']}"


def test_grid_runs_shared_cells_once():
    grid = dict(sweep.cells("omniglot", ["labeled_only", "ssml"], ["classes", "instances"],
                            [0.0, 0.05, 1.0], [0, 1]))
    # Per seed: LASIUM once at 0; 2 methods x 2 schemes at 0.05; 2 methods at 1.
    assert len(grid) == 2 * (1 + 4 + 2)
    # Cells are named as run folders are (meta.config.run_name).
    assert f"lasium-n_{GAN}_qshifts_5w1s_classes0_seed1" in grid
    assert f"ssml-n-batch0.5_{GAN}_qshifts_5w1s_instances0.05_seed0" in grid
    assert "--label_fraction=0.05" in grid["labeled_only_5w1s_instances0.05_seed0"]


def fake_runner(calls):
    def run(args):
        calls.append(args)
        return fake_run(args)
    return run


def test_sweep_skips_completed_cells_and_resumes(tmp_path):
    grid = sweep.cells("omniglot", ["labeled_only"], ["classes"], [0.05, 0.1], [0],
                       ["--iterations=7"])
    calls = []
    run = fake_runner(calls)
    results_dir, runs_dir = str(tmp_path / "results"), str(tmp_path / "runs")
    os.makedirs(results_dir)
    # An interrupted sweep: one cell finished.
    sweep.sweep(grid[:1], results_dir, runs_dir, run)
    assert len(calls) == 1
    sweep.sweep(grid, results_dir, runs_dir, run)
    assert len(calls) == 2 and "--label_fraction=0.1" in calls[1]
    assert sorted(os.listdir(results_dir)) == ["labeled_only_5w1s_classes0.05_seed0.json",
                                               "labeled_only_5w1s_classes0.1_seed0.json"]
    sweep.sweep(grid, results_dir, runs_dir, run)
    assert len(calls) == 2

    def grid_with(*extra):
        return sweep.cells("omniglot", ["labeled_only"], ["classes"], [0.05, 0.1], [0], extra)

    # Results of other settings are never taken for this sweep's.
    with pytest.raises(ValueError, match="iterations"):
        sweep.sweep(grid_with("--iterations=8"), results_dir, runs_dir, run)
    # A flag the method never reads does not make its results stale.
    sweep.sweep(grid_with("--iterations=7", "--mix=schedule", "--gan_epochs=3"), results_dir,
                runs_dir, run)
    assert len(calls) == 2


def test_each_mix_is_its_own_cell_beside_one_baseline(tmp_path):
    calls = []
    results_dir, runs_dir = tmp_path / "results", str(tmp_path / "runs")
    for mix in (["--mix=batch"], ["--mix=schedule"], ["--generated_weight=0.25"]):
        grid = sweep.cells("omniglot", ["labeled_only", "ssml"], ["classes"], [0.05], [0], mix)
        sweep.sweep(grid, str(results_dir), runs_dir, fake_runner(calls))
    assert len(calls) == 4  # the baseline once, SSML once per mix
    assert sorted(p.name for p in results_dir.iterdir()) == [
        "labeled_only_5w1s_classes0.05_seed0.json",
        f"ssml-n-batch0.5_{GAN}_qshifts_5w1s_classes0.05_seed0.json",
        f"ssml-n-batch0.5weight0.25_{GAN}_qshifts_5w1s_classes0.05_seed0.json",
        f"ssml-n-schedule0to0.5_{GAN}_qshifts_5w1s_classes0.05_seed0.json"]
    # Blocks are read by --mix=alternate only.
    grid = sweep.cells("omniglot", ["ssml"], ["classes"], [0.05], [0], ["--mix_block=3"])
    sweep.sweep(grid, str(results_dir), runs_dir, fake_runner(calls))
    assert len(calls) == 4


def test_contradicting_cells_fail_before_any_run():
    with pytest.raises(ValueError, match="label_fraction=0"):
        sweep.cells("omniglot", ["lasium"], ["classes"], [0.5], [0])


def write(tmp_path, name, **changes):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(results(**changes)))
    return str(path)


def test_plot_results_table_and_plot(tmp_path):
    paths = [write(tmp_path, "u0", method="lasium", label_fraction=0.0, test_accuracy=0.5),
             write(tmp_path, "l1", method="labeled_only", test_accuracy=0.80, seed=0),
             write(tmp_path, "l2", method="labeled_only", test_accuracy=0.90, seed=1),
             write(tmp_path, "s1", method="ssml", test_accuracy=0.85),
             write(tmp_path, "s1i", method="ssml", label_scheme="instances", test_accuracy=0.7),
             write(tmp_path, "s3i", method="ssml", label_scheme="instances", test_accuracy=0.72,
                   config=dict(gan_epochs=30)),
             write(tmp_path, "f1", method="labeled_only", label_fraction=1.0, test_accuracy=0.95),
             write(tmp_path, "sb", method="ssml", test_accuracy=0.81, config=dict(
                 mix="batch", labeled_share=0.5, labeled_share_start=0.0, mix_block=1)),
             write(tmp_path, "ss", method="ssml", test_accuracy=0.82, config=dict(
                 mix="schedule", labeled_share=1.0, labeled_share_start=0.0, mix_block=1))]
    table = list(plot_results.rows(plot_results.load(paths)))
    text = plot_results.markdown(table)
    # Two seeds: the mean and the t-interval over the seeds (12.706 * 7.071 / sqrt(2)).
    assert "| classes | 10% | labeled-only MAML | 2 | 85.00% ± 63.53 | 2 seeds | 80.00 90.00 |" \
        in text
    # LASIUM and all-label runs appear under every scheme.
    assert text.count("LASIUM (no labels)") == 2 and text.count("| 100% |") == 2
    # One seed: only its test tasks' interval, and the table says so.
    assert "| instances | 10% | SSML (10 GAN epochs) | 1 | 70.00% ± 1.23 | test tasks |" in text
    # Another GAN is another line, even for the same seed.
    assert "| instances | 10% | SSML (30 GAN epochs) | 1 | 72.00% ± 1.23 | test tasks |" in text
    # Each mixing setting is its own line.
    assert "| classes | 10% | SSML (batch 0.5) | 1 | 81.00% ± 1.23 |" in text
    assert "| classes | 10% | SSML (schedule 0 to 1) | 1 | 82.00% ± 1.23 |" in text
    # Against labeled-only over the seeds both have (seed 0: 82 - 80, not 82 - the mean of
    # 80 and 90); these runs kept no per-task accuracies, so no interval is claimed.
    compared = list(plot_results.comparisons(table))
    x, gain, ci = plot_results.gains(compared, "classes", "ssml|schedule 0 to 1")
    assert x == [0.1] and gain == pytest.approx([2.0]) and math.isnan(ci[0])
    assert "| SSML (schedule 0 to 1) | labeled-only MAML | 1 | +2.00 | +2.00 | test tasks | " \
        "no interval |" in plot_results.comparison_markdown(compared)
    figure = plot_results.plot(table, str(tmp_path / "p.png"))
    assert (tmp_path / "p.png").stat().st_size > 1000
    # LASIUM, without labels, is a dotted level across each scheme's accuracy panel.
    for panel in figure.axes[:2]:
        levels = [line for line in panel.get_lines() if line.get_linestyle() == ":"]
        assert [line.get_ydata()[0] for line in levels] == [50.0]
    assert plot_results.to_csv(table).splitlines()[0] == \
        "scheme,fraction,method,seeds,accuracy,ci95,interval,per_seed"


def per_task(seed, accuracies):
    """A run's per-task record on the test tasks of one seed."""
    return dict(seed=seed, test_accuracy=sum(accuracies) / len(accuracies),
                test_task_accuracies=accuracies,
                test_tasks=dict(dataset="omniglot", seed=seed, count=len(accuracies)))


def test_comparison_pairs_tasks_per_seed_and_takes_a_t_interval_over_seeds(tmp_path):
    base = [0.6, 0.8, 0.7, 0.9]
    paths = []
    for seed, gain in enumerate([0.03, 0.04, 0.05]):
        paths.append(write(tmp_path, f"l{seed}", method="labeled_only", **per_task(seed, base)))
        # Per task: +gain, +gain, +gain + 0.02, +gain - 0.02.
        ssml = [b + gain + d for b, d in zip(base, [0, 0, 0.02, -0.02])]
        paths.append(write(tmp_path, f"s{seed}", method="ssml", **per_task(seed, ssml)))
    [row] = plot_results.comparisons(list(plot_results.rows(plot_results.load(paths))))
    # Seed 0: differences 3, 3, 5, 1 points: mean 3, sample std sqrt(8/3),
    # half-width t(3) * std / 2 = 3.182446 * 1.632993 / 2.
    assert row["per_seed"][0] == pytest.approx((3.0, 3.182446 * 1.632993 / 2), rel=1e-5)
    # Across seeds: 3, 4, 5 points: mean 4, std 1, half-width t(2) / sqrt(3) = 2.48.
    assert (row["difference"], row["ci95"]) == pytest.approx((4.0, 4.302653 / 3 ** 0.5),
                                                              rel=1e-5)
    assert row["interval"] == "3 seeds" and plot_results.verdict(row) == "ahead"


def test_generated_methods_are_also_compared_with_lasium_on_a_gan_of_their_epochs(tmp_path):
    paths = [write(tmp_path, "u", method="lasium", label_fraction=0.0, **per_task(0, [0.7, 0.8])),
             write(tmp_path, "u30", method="lasium", label_fraction=0.0,
                   config=dict(gan_epochs=30), **per_task(0, [0.1, 0.1])),
             write(tmp_path, "l", method="labeled_only", **per_task(0, [0.6, 0.6])),
             write(tmp_path, "s", method="ssml", **per_task(0, [0.8, 0.8]))]
    table = list(plot_results.rows(plot_results.load(paths)))
    rows = {r["versus"]: r for r in plot_results.comparisons(table)}
    # Only the 10-epoch LASIUM, the SSML run's GAN: +10 and 0 points, mean 5.
    assert set(rows) == {"labeled-only MAML", "LASIUM (no labels) (10 GAN epochs)"}
    assert rows["LASIUM (no labels) (10 GAN epochs)"]["per_seed"][0][0] == pytest.approx(5.0)
    assert rows["labeled-only MAML"]["per_seed"][0][0] == pytest.approx(20.0)
    # The plot's gain panel stays the gain over labeled-only.
    compared = list(plot_results.comparisons(table))
    assert plot_results.gains(compared, "classes", "ssml|10 GAN epochs")[1] == pytest.approx([20])


def test_ssml_ssg_is_also_compared_with_ssml_on_a_plain_gan_of_its_epochs(tmp_path):
    paths = [write(tmp_path, "l", method="labeled_only", **per_task(0, [0.6, 0.6])),
             write(tmp_path, "s", method="ssml", **per_task(0, [0.8, 0.7])),
             write(tmp_path, "s30", method="ssml", config=dict(gan_epochs=30),
                   **per_task(0, [0.1, 0.1])),
             write(tmp_path, "g", method="ssml_ssg", **per_task(0, [0.9, 0.9]))]
    rows = {r["versus"]: r["per_seed"][0][0]
            for r in plot_results.comparisons(list(plot_results.rows(plot_results.load(paths))))
            if r["method"] == "SSML-SSG (10 GAN epochs)"}
    # Against SSML on the 10-epoch GAN only (+10 and +20 points), never the 30-epoch one.
    assert rows == pytest.approx({"labeled-only MAML": 30.0, "SSML (10 GAN epochs)": 15.0})


def test_each_learner_is_its_own_line_against_its_own_baselines(tmp_path):
    protonets = dict(learner="protonets", gan_epochs=10)
    paths = [write(tmp_path, "l", method="labeled_only", **per_task(0, [0.6, 0.6])),
             write(tmp_path, "lp", method="labeled_only", config=protonets,
                   **per_task(0, [0.5, 0.5])),
             write(tmp_path, "up", method="lasium", label_fraction=0.0, config=protonets,
                   **per_task(0, [0.7, 0.7])),
             write(tmp_path, "sp", method="ssml", config=protonets, **per_task(0, [0.8, 0.8]))]
    table = list(plot_results.rows(plot_results.load(paths)))
    assert {r["method"] for r in table} == {
        "labeled-only MAML", "labeled-only ProtoNets",
        "LASIUM-ProtoNets (no labels) (10 GAN epochs)", "SSML-ProtoNets (10 GAN epochs)"}
    rows = {r["versus"]: r["per_seed"][0][0] for r in plot_results.comparisons(table)}
    assert rows == pytest.approx({"labeled-only ProtoNets": 30.0,
                                  "LASIUM-ProtoNets (no labels) (10 GAN epochs)": 10.0})


def test_runs_with_fewer_training_queries_are_compared_only_with_their_like(tmp_path):
    q1 = dict(train_query=1, gan_epochs=10)
    paths = [write(tmp_path, "l", method="labeled_only", **per_task(0, [0.6, 0.6])),
             write(tmp_path, "l1", method="labeled_only", config=q1, **per_task(0, [0.5, 0.5])),
             write(tmp_path, "u", method="lasium", label_fraction=0.0, config=dict(gan_epochs=10),
                   **per_task(0, [0.7, 0.7])),
             write(tmp_path, "s1", method="ssml", config=q1, **per_task(0, [0.8, 0.8]))]
    table = list(plot_results.rows(plot_results.load(paths)))
    assert "SSML (10 GAN epochs, 1 training query per class)" in {r["method"] for r in table}
    # Against labeled-only with 1 query (+30), never the 5-query runs: no LASIUM with 1 query.
    rows = {r["versus"]: r["per_seed"][0][0] for r in plot_results.comparisons(table)}
    assert rows == pytest.approx({"labeled-only MAML (1 training query per class)": 30.0})


def test_a_line_has_one_color_in_every_panel_and_one_legend_entry(tmp_path):
    paths = [write(tmp_path, "s", method="ssml"),
             write(tmp_path, "l", method="labeled_only", label_scheme="random"),
             write(tmp_path, "a", method="labeled_only", label_fraction=1.0)]
    fig = plot_results.plot(list(plot_results.rows(plot_results.load(paths))),
                            str(tmp_path / "p.png"))
    top = [{line.get_label(): line.get_color() for line in ax.get_lines()}
           for ax in fig.axes[:2]]  # the panels of schemes classes and random
    assert top[0]["labeled-only MAML"] == top[1]["labeled-only MAML"]
    assert top[0]["SSML (10 GAN epochs)"] != top[1]["labeled-only MAML"]
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert sorted(legend) == ["SSML (10 GAN epochs)", "labeled-only MAML"]


def test_comparison_refuses_runs_tested_on_different_tasks(tmp_path):
    other = per_task(0, [0.5, 0.5])
    other["test_tasks"]["count"] = 3
    paths = [write(tmp_path, "l", method="labeled_only", **per_task(0, [0.5, 0.6])),
             write(tmp_path, "s", method="ssml", **other)]
    with pytest.raises(ValueError, match="different tasks"):
        list(plot_results.comparisons(list(plot_results.rows(plot_results.load(paths)))))


def test_shifted_runs_are_their_own_lines_against_shifted_labeled_only(tmp_path):
    both = dict(mix="batch", labeled_share=0.5, labeled_share_start=0.0, mix_block=1,
                query_augmentation=True, labeled_query_augmentation=True)
    paths = [write(tmp_path, "l", method="labeled_only", test_accuracy=0.70),
             # Today's runs record --query_augmentation (on by default) even where no
             # generated task reads it.
             write(tmp_path, "ls", method="labeled_only", test_accuracy=0.80,
                   config=dict(labeled_query_augmentation=True, query_augmentation=True)),
             write(tmp_path, "ss", method="ssml", test_accuracy=0.83, config=both)]
    table = list(plot_results.rows(plot_results.load(paths)))
    text = plot_results.markdown(table)
    assert "| classes | 10% | labeled-only MAML | 1 | 70.00% ± 1.23 |" in text
    assert "| labeled-only MAML (shifted labeled queries) | 1 | 80.00% ± 1.23 |" in text
    assert "| SSML (batch 0.5, shifted labeled and generated queries) | 1 | 83.00% ± 1.23 |" \
        in text
    [ssml] = [r for r in table if r["key"].startswith("ssml")]
    gain = plot_results.gains(list(plot_results.comparisons(table)), "classes", ssml["key"])[1]
    assert gain == pytest.approx([3.0])  # 83 - 80, not 83 - 70
    plot_results.plot(table, str(tmp_path / "p.png"))


def test_plot_results_refuses_json_without_provenance(tmp_path):
    r = results()
    del r["command"]
    (tmp_path / "r.json").write_text(json.dumps(r))
    with pytest.raises(ValueError, match="command"):
        plot_results.load([str(tmp_path / "r.json")])


def test_results_from_before_a_new_flag_still_count(tmp_path):
    grid = sweep.cells("omniglot", ["labeled_only"], ["classes"], [0.05], [0])
    calls = []
    sweep.sweep(grid, str(tmp_path / "r"), str(tmp_path / "runs"), fake_runner(calls))
    [path] = (tmp_path / "r").iterdir()
    r = json.loads(path.read_text())
    del r["config"]["ssg_mix_classes"]  # as if written before that flag existed
    path.write_text(json.dumps(r))
    sweep.sweep(grid, str(tmp_path / "r"), str(tmp_path / "runs"), fake_runner(calls))
    assert len(calls) == 1
