"""A held lock: the second holder is told, then gives up or waits (infra/file_lock.py)."""
import errno
import threading
import time

import pytest

from infra import file_lock


def test_a_second_holder_is_told_then_gives_up_or_waits(tmp_path):
    path = str(tmp_path / "folder" / ".lock")
    held, released, told = threading.Event(), threading.Event(), []

    def hold_briefly():
        with file_lock.exclusive(path):
            held.set()
            time.sleep(0.3)
            released.set()

    def refuse():
        raise ValueError("busy")

    holder = threading.Thread(target=hold_briefly)
    holder.start()
    held.wait()
    with pytest.raises(ValueError, match="busy"):
        with file_lock.exclusive(path, refuse):
            pass
    with file_lock.exclusive(path, lambda: told.append(released.is_set())):
        assert released.is_set()  # it waited for the holder
    holder.join()
    assert told == [False]
    with file_lock.exclusive(path, refuse):  # free again
        pass


def test_a_filesystem_without_locks_goes_on_unlocked(tmp_path, monkeypatch):
    def no_locks(*args):
        raise OSError(errno.ENOSYS, "Function not implemented")

    monkeypatch.setattr(file_lock.fcntl, "flock", no_locks)
    with file_lock.exclusive(str(tmp_path / ".lock")):
        pass
