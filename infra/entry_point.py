"""How every program of the project starts: `run_main(main)`, in place of absl's
`app.run(main)`, so that its errors read the same everywhere.

An error the project raises for the user (a ValueError or FileNotFoundError from its own
code: a flag out of range or contradicting another, missing or broken data, a label budget
that leaves no task) is a message, not a crash: it prints as one line and the program exits
with status 1, without a traceback. Usage errors (absl.app.UsageError) keep absl's
handling: the program's usage, then the message. Any other exception is a crash and shows
its traceback, and so do these two types when a library raises them (TensorFlow, NumPy:
a bug or a surprise, where the traceback is what one needs)."""
import os
import sys
import sysconfig
import traceback

from absl import app

MESSAGE_ERRORS = (ValueError, FileNotFoundError)
_PROJECT = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# Installed libraries may live below the project's folder too (its .venv).
_LIBRARIES = tuple({sysconfig.get_path(name) + os.sep
                    for name in ("stdlib", "platstdlib", "purelib", "platlib")})


def run_main(main, argv=None):
    """absl's app.run(main, argv), with the project's errors for the user as one line."""
    app.run(lambda args: _messages_for_errors(main, args), argv)


def _messages_for_errors(main, args):
    try:
        return main(args)
    except MESSAGE_ERRORS as error:
        if not _raised_by_the_project(error):
            raise
        print(f"Error: {error}", file=sys.stderr)
        sys.exit(1)


def _raised_by_the_project(error) -> bool:
    where = os.path.abspath(traceback.extract_tb(error.__traceback__)[-1].filename)
    return where.startswith(_PROJECT) and not where.startswith(_LIBRARIES)
