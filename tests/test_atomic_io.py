import json
import os

import pytest

from infra.atomic_io import atomic_file, write_json_atomic


def test_json_is_replaced_whole_and_readable(tmp_path):
    path = tmp_path / "out" / "r.json"
    write_json_atomic(str(path), {"a": 1})
    write_json_atomic(str(path), {"a": 2})
    assert json.loads(path.read_text()) == {"a": 2}
    assert os.listdir(path.parent) == ["r.json"] and (path.stat().st_mode & 0o044) == 0o044
    with pytest.raises(TypeError):
        write_json_atomic(str(path), {"a": object()})
    assert json.loads(path.read_text()) == {"a": 2} and os.listdir(path.parent) == ["r.json"]
    # A writer that fails half-way leaves the old file, and no temporary one.
    with pytest.raises(RuntimeError):
        with atomic_file(str(path)) as f:
            f.write(b"half")
            raise RuntimeError("killed")
    assert json.loads(path.read_text()) == {"a": 2} and os.listdir(path.parent) == ["r.json"]
