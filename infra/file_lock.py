"""An exclusive lock on a file, for the folders that processes running at once must not
write together: a run's folder (one process trains in it, so the same sweep cell submitted
twice fails instead of corrupting its checkpoints) and a cached GAN (sweep cells that share
a GAN run at once on an engine: the first trains it, the others wait, then load it).

flock(2) locks belong to the open file: they are released when the holder exits however it
ends, and two holders in one process exclude each other as two processes do. On a
filesystem without locks (Lustre mounted without `flock`) the block runs unlocked, with a
warning."""
import contextlib
import errno
import fcntl
import os

from absl import logging

# What flock raises where the filesystem has no locks.
_NO_LOCKS = (errno.ENOSYS, errno.ENOLCK, errno.EINVAL, errno.EOPNOTSUPP)


@contextlib.contextmanager
def exclusive(path: str, on_busy=lambda: None):
    """Holds an exclusive lock on `path` (created, with its folder, if missing) for the
    `with` block. If another holds it, calls `on_busy()` (which may raise, to give up),
    then waits for it."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            on_busy()
            fcntl.flock(f, fcntl.LOCK_EX)
        except OSError as error:
            if error.errno not in _NO_LOCKS:
                raise
            logging.warning("%s: this filesystem has no file locks (%s); going on unlocked.",
                            path, error.strerror)
        yield
