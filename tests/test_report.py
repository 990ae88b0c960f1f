import json
import os

import pytest

from run_scripts import report
from util import results


def test_tables_come_from_the_json(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(results()))
    text = report.report([str(path)])
    assert "| - | 0 | 87.65% ± 1.23 |" in text and "classes 10%" in text
    assert "| 50 | 50.00% ± 1.00 |" in text
    assert "| 2.0 min | - |" in text  # no peak memory recorded


def test_labeled_tasks_with_shifted_queries_say_so(tmp_path):
    path = tmp_path / "r.json"
    config = {"num_val_tasks": 10, "labeled_query_augmentation": True}
    path.write_text(json.dumps(results(method="labeled_only", config=config)))
    assert "| labeled_only | classes 10%, query shifts bilinear ±10% | - |" in report.report([str(path)])


def test_peak_memory_in_gigabytes(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(results(peak_memory_mb=3677.8)))
    assert "| 2.0 min | 3.6 GB |" in report.report([str(path)])


def test_protonets_runs_say_so(tmp_path):
    path = tmp_path / "r.json"
    config = {"num_val_tasks": 10, "learner": "protonets", "n_way": 5, "train_n_way": 20}
    path.write_text(json.dumps(results(method="maml", config=config)))
    assert "| maml, ProtoNets trained 20-way | classes 10% |" in report.report([str(path)])
    path.write_text(json.dumps(results(method="maml", config={**config, "train_n_way": 5})))
    assert "| maml, ProtoNets | classes 10% |" in report.report([str(path)])


def test_generated_runs_name_their_sampler(tmp_path):
    path = tmp_path / "r.json"
    config = {"num_val_tasks": 10, "lasium": "n", "gan_epochs": 10, "lasium_sigma": 1.0,
              "lasium_ro_alpha": 0.2, "lasium_anchor_epsilon": 246.09375}
    path.write_text(json.dumps(results(method="lasium", config=config)))
    assert "| LASIUM-N σ 1, anchors ε 246.094, 10 epochs |" in report.report([str(path)])
    path.write_text(json.dumps(results(method="lasium", config={**config, "query_augmentation": True})))
    assert "| LASIUM-N σ 1, anchors ε 246.094, 10 epochs, query shifts bilinear ±10% |" in report.report([str(path)])


def test_lasiums_recipe_is_named_with_its_shift(tmp_path):
    path = tmp_path / "r.json"
    config = {"num_val_tasks": 10, "lasium": "n", "gan_epochs": 10, "lasium_sigma": 0.5,
              "lasium_anchor_epsilon": 246.09375, "lasium_anchor_support": True,
              "query_augmentation": True, "query_shift": "integer", "query_shift_max": 5.0}
    path.write_text(json.dumps(results(method="lasium", config=config)))
    assert ("| LASIUM-N σ 0.5, anchors ε 246.094, anchor support, 10 epochs, query shifts "
            "integer ±5 px |") in report.report([str(path)])
    within = {**config, "gan_precision": "mixed_bfloat16", "gan_diversity_pairs": "within_batch"}
    path.write_text(json.dumps(results(method="lasium", config=within)))
    assert ("| LASIUM-N σ 0.5, anchors ε 246.094, anchor support, 10 bfloat16 epochs, "
            "mode-seeking pairs within batch, query shifts integer ±5 px |"
            ) in report.report([str(path)])


def test_gan_epoch_curve_sets_each_run_beside_the_original():
    from run_scripts import gan_epoch_curve
    config = {"lasium": "n", "lasium_sigma": 0.5}
    runs = [results(method="lasium", iterations=iterations, test_accuracy=accuracy,
                    config={**config, "gan_epochs": epochs})
            for epochs, iterations, accuracy in ((10, 1000, 0.7), (10, 2500, 0.72), (25, 1000, 0.75))]
    text = gan_epoch_curve.table(runs)
    assert "| GAN epochs | original LASIUM-N (1000 it.) | here, 1000 it. | here, 2500 it. |" in text
    assert "| 10 | 67.50% | 70.00% ± 1.23 | 72.00% ± 1.23 | +2.50 |" in text
    assert "| 25 | - | 75.00% ± 1.23 | - | - |" in text  # the original has no 25
    with pytest.raises(ValueError, match="Two runs for 10 GAN epochs and 2500 iterations"):
        gan_epoch_curve.table(runs + runs[1:2])


def test_gan_epoch_curve_gives_each_gan_training_its_own_series():
    from run_scripts import gan_epoch_curve
    config = {"lasium": "n", "lasium_sigma": 0.5, "gan_epochs": 20}
    runs = [results(method="lasium", iterations=1000, test_accuracy=accuracy,
                    config={**config, "gan_precision": precision, **pairs})
            for precision, pairs, accuracy in (
                ("float32", {}, 0.8), ("mixed_bfloat16", {}, 0.9),
                ("mixed_bfloat16", {"gan_diversity_pairs": "within_batch"}, 0.85))]
    text = gan_epoch_curve.table(runs)
    assert ("| here, 1000 it. | here, 1000 it., bfloat16 GAN | here, 1000 it., bfloat16 GAN, "
            "pairs within batch | gap at 1000 it. |") in text
    # the gap to the original is the float32 run's, whichever came first
    row = "| 20 | 71.26% | 80.00% ± 1.23 | 90.00% ± 1.23 | 85.00% ± 1.23 | +8.74 |"
    assert row in text and row in gan_epoch_curve.table(runs[::-1])


def test_json_without_provenance_is_refused(tmp_path):
    r = results()
    del r["git_commit"]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(r))
    with pytest.raises(ValueError, match="git_commit"):
        report.report([str(path)])


def test_plot_is_written(tmp_path):
    path = tmp_path / "r.json"
    path.write_text(json.dumps(results()))
    report.plot([str(path)], str(tmp_path / "curve.png"))
    assert (tmp_path / "curve.png").stat().st_size > 1000


def test_readme_block_is_replaced_and_a_missing_block_is_an_error(tmp_path):
    from meta.readme_blocks import replace_block
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- sweep -->\nold\n<!-- /sweep -->\nend\n")
    replace_block(str(readme), "sweep", "new table")
    assert readme.read_text() == "intro\n<!-- sweep -->\nnew table\n<!-- /sweep -->\nend\n"
    with pytest.raises(ValueError, match="report"):
        replace_block(str(readme), "report", "x")


def test_collected_results_keep_numbers_and_drop_machine_paths(tmp_path):
    from run_scripts.collect_results import collect
    root = tmp_path / "exp"
    r = results(command=f"python -m run_scripts.train --data_dir={tmp_path}/data "
                        f"--output_dir={root}/runs/a",
                data_source=f"{tmp_path}/data/omniglot.npz",
                config={"output_dir": f"{root}/runs/a", "gan_dir": f"{root}/gans",
                        "data_dir": f"{tmp_path}/data"})
    (tmp_path / "results.json").write_text(json.dumps(r))
    collected = collect(str(tmp_path / "results.json"), str(tmp_path / "out.json"), str(root))
    assert collected == json.loads((tmp_path / "out.json").read_text())
    assert collected["command"] == \
        "python -m run_scripts.train --data_dir=$DATA --output_dir=$EXP/runs/a"
    assert collected["config"] == {"output_dir": "$EXP/runs/a", "gan_dir": "$EXP/gans",
                                   "data_dir": "$DATA"}
    assert collected["data_source"] == "omniglot.npz"
    assert str(tmp_path) not in json.dumps(collected)
    assert collected["test_accuracy"] == r["test_accuracy"]

    # Mini-ImageNet's source is the data folder itself; a GAN cache elsewhere is $GANS.
    gans = tmp_path / "gans"
    r = results(command=f"python -m run_scripts.train --data_dir={tmp_path}/data "
                        f"--gan_dir={gans} --output_dir={root}/runs/b",
                data_source=f"{tmp_path}/data",
                config={"output_dir": f"{root}/runs/b", "gan_dir": str(gans),
                        "data_dir": f"{tmp_path}/data"})
    (tmp_path / "results.json").write_text(json.dumps(r))
    collected = collect(str(tmp_path / "results.json"), str(tmp_path / "out.json"), str(root),
                        str(gans))
    assert collected["command"] == ("python -m run_scripts.train --data_dir=$DATA "
                                    "--gan_dir=$GANS --output_dir=$EXP/runs/b")
    assert collected["data_source"] == "$DATA"
    assert str(tmp_path) not in json.dumps(collected)
    # Into a folder: the run folder's name (here tmp_path's) names the file.
    (tmp_path / "collected").mkdir()
    collect(str(tmp_path / "results.json"), str(tmp_path / "collected"), str(root))
    assert os.listdir(tmp_path / "collected") == [tmp_path.name + ".json"]
