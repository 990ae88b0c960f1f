"""Atomic writes: a reader sees the old file or the whole new one, never half of one, and a
killed writer leaves the old file as it was. Results, run state, tables, figures and the
data sets' npz archives are all written this way."""
import contextlib
import io
import json
import os
import tempfile


@contextlib.contextmanager
def atomic_file(path):
    """A binary file to write `path`'s new content to; it replaces `path` when the block
    ends without an error, and is removed when it raises."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    # In the same folder, so that os.replace is a rename within one file system.
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".tmp_{os.path.basename(path)}.")
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; what we write is for everyone to read
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_text_atomic(path, text) -> None:
    """Text (or bytes) as the whole new content of `path`."""
    with atomic_file(path) as f:
        f.write(text.encode() if isinstance(text, str) else text)


def write_json_atomic(path, data) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True))


def write_figure_atomic(path, figure, dpi: int = 120) -> None:
    """A matplotlib figure as a PNG."""
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=dpi, bbox_inches="tight")  # legends outside too
    write_text_atomic(path, png.getvalue())
