"""Errors for the user print as a message; crashes keep their traceback (infra/entry_point.py)."""
import json
import os
import subprocess
import sys

import pytest

from infra.entry_point import run_main
from meta.config import config_from_args

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def train(*args):
    return subprocess.run([sys.executable, "-m", "run_scripts.train", *args], cwd=REPO,
                          capture_output=True, text=True, timeout=300)


def test_a_bad_flag_value_is_one_line_without_traceback(tmp_path):
    out = train("--label_fraction=1.5", f"--data_dir={tmp_path}")
    assert out.returncode != 0
    assert "Traceback" not in out.stdout + out.stderr
    [line] = [line for line in out.stderr.splitlines() if "--label_fraction=1.5" in line]
    assert line == "Error: --label_fraction=1.5 is out of range: it must be >= 0 and <= 1."


def test_missing_data_is_a_message_without_traceback(tmp_path):
    out = train(f"--data_dir={tmp_path}", f"--output_dir={tmp_path / 'run'}")
    assert out.returncode == 1 and "Traceback" not in out.stdout + out.stderr
    assert "Error: None of ['omniglot.npz'" in out.stderr and "--data_dir" in out.stderr


def test_query_augmentation_is_refused_where_no_task_is_generated():
    with pytest.raises(ValueError, match="--method=labeled_only makes none: drop it"):
        config_from_args("--method=labeled_only", "--label_fraction=0.5", "--query_augmentation")
    # Its default (on) and switching it off are no contradiction.
    config_from_args("--method=labeled_only", "--label_fraction=0.5")
    config_from_args("--method=labeled_only", "--label_fraction=0.5", "--noquery_augmentation")


def test_the_projects_errors_exit_with_their_message(capsys):
    def main(argv):
        raise ValueError("--n_way must be at least 2.")

    with pytest.raises(SystemExit) as exit:
        run_main(main, ["prog"])
    assert exit.value.code == 1
    assert capsys.readouterr().err == "Error: --n_way must be at least 2.\n"


def test_crashes_keep_their_traceback():
    def main(argv):
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        run_main(main, ["prog"])
    # A ValueError that a library raises is a crash too.
    with pytest.raises(json.JSONDecodeError):
        run_main(lambda argv: json.loads("{"), ["prog"])
