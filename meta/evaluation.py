"""The results JSON that sweeps and plots read, and atomic writes of results and README blocks."""
import io
import json
import os
import re
import subprocess
import tempfile

from absl import flags

# Keys every results JSON has; later tools (sweep, plots) rely on them.
REQUIRED_KEYS = ("dataset", "method", "label_scheme", "label_fraction", "n_way", "k_shot",
                 "test_accuracy", "test_ci95", "num_test_tasks", "seed", "iterations",
                 "wall_seconds", "command", "git_commit", "data_source", "config")


def git_commit() -> str:
    """HEAD of the checkout this code runs from, marked '-dirty' with local changes."""
    here = os.path.dirname(os.path.abspath(__file__))
    try:
        run = lambda *a: subprocess.run(["git", *a], cwd=here, capture_output=True,  # noqa
                                        text=True, check=True).stdout.strip()
        commit = run("rev-parse", "HEAD")
        return commit + ("-dirty" if run("status", "--porcelain", "--untracked-files=no") else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def write_text_atomic(path: str, text) -> None:
    """Write text (or bytes) so that readers see the old file or the whole new one."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp_")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_json_atomic(path: str, data) -> None:
    write_text_atomic(path, json.dumps(data, indent=2, sort_keys=True))


def write_figure_atomic(path: str, figure, dpi: int = 120) -> None:
    """A matplotlib figure as a PNG, written atomically."""
    png = io.BytesIO()
    figure.savefig(png, format="png", dpi=dpi)
    write_text_atomic(path, png.getvalue())


def check_results(results: dict) -> None:
    missing = [k for k in REQUIRED_KEYS if k not in results]
    if missing:
        raise ValueError(f"results lack the keys {missing}")


def define_readme_flags(block: str) -> None:
    """--readme and --block of the scripts that write a table into a README block."""
    flags.DEFINE_string("readme", None, "Also put the table in a block of this markdown file.")
    flags.DEFINE_string("block", block, "Name of that block (<!-- name --> ... <!-- /name -->).")


def replace_block(path: str, name: str, text: str) -> None:
    """Replace the text between `<!-- name -->` and `<!-- /name -->` in a markdown file."""
    with open(path) as f:
        readme = f.read()
    block = re.compile(rf"(<!-- {name} -->\n).*?(<!-- /{name} -->)", re.S)
    if not block.search(readme):
        raise ValueError(f"{path} has no <!-- {name} --> block.")
    write_text_atomic(path, block.sub(lambda m: m.group(1) + text + "\n" + m.group(2), readme))
