import json
import os

import numpy as np
import pytest

from meta.evaluation import mean_ci95, write_json_atomic


def test_ci95_is_1_96_std_over_sqrt_n():
    accuracies = [0.2, 0.4, 0.6, 0.8, 1.0]
    mean, ci = mean_ci95(accuracies)
    assert mean == pytest.approx(0.6)
    assert ci == pytest.approx(1.96 * np.sqrt(0.08) / np.sqrt(5))  # population std 0.2828
    assert mean_ci95([0.7] * 10) == (pytest.approx(0.7), 0.0)
    with pytest.raises(ValueError):
        mean_ci95([])


def test_json_is_replaced_whole_and_readable(tmp_path):
    path = tmp_path / "out" / "r.json"
    write_json_atomic(str(path), {"a": 1})
    write_json_atomic(str(path), {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert os.listdir(path.parent) == ["r.json"] and (path.stat().st_mode & 0o044) == 0o044
    with pytest.raises(TypeError):
        write_json_atomic(str(path), {"a": object()})
    assert json.loads(path.read_text()) == {"a": 2} and os.listdir(path.parent) == ["r.json"]
