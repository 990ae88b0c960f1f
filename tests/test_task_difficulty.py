import numpy as np
import pytest

import util
from meta.config import config_from_args
from meta.task_difficulty import measure, task_statistics
from run_scripts.task_difficulty import markdown_table


def test_task_statistics_on_a_task_worked_by_hand():
    # 2-way 1-shot, one query per class, images of one pixel: prototypes 0 and 10; the
    # query 1 is nearest its own class, the query 4 is nearer class 0 than its own.
    support = np.array([[[[0.0]], [[10.0]]]])
    query = np.array([[[[1.0]], [[4.0]]]])
    accuracy, own, between = task_statistics(support, query)
    assert accuracy == pytest.approx([0.5])
    assert own == pytest.approx([(1 + 6) / 2])
    assert between == pytest.approx([10.0])


def test_generated_tasks_get_harder_as_members_move_away_from_their_anchor(tmp_path):
    c = config_from_args("--method=ssml", "--label_fraction=0.5", "--lasium=ro",
                         "--noquery_augmentation", "--gan_epochs=1", "--gan_batch_size=50", f"--gan_dir={tmp_path}",
                         f"--output_dir={tmp_path / 'run'}")
    report = measure(c, util.database(), values=[0.0, 1.0], num_tasks=20)
    assert set(report["real"]) == {"test classes", "labeled training classes"}
    # Synthetic classes are one prototype plus a little noise: easy in pixels.
    assert report["real"]["test classes"]["prototype_accuracy"] > 0.9
    copies, independent = report["generated"]
    assert report["parameter"] == "lasium_ro_alpha" and copies["value"] == 0.0
    # alpha 0: every member is its anchor's image (up to float rounding of the batched
    # generator), so each class is copies of one image.
    assert copies["prototype_accuracy"] == 1.0 and copies["spread"] < 0.05
    assert independent["spread"] > 10 * copies["spread"] and independent["tasks"] == 50
    assert "| generated (1-epoch GAN, lasium_ro_alpha=1) | " in markdown_table(report)
    shifted = {**report, "query_augmentation": True}
    assert "| generated (1-epoch GAN, query shifts, lasium_ro_alpha=1) | " in markdown_table(shifted)
