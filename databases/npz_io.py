"""Reading and atomically writing the .npz archives described in PROVENANCE.md."""
import pathlib
import zipfile
import zlib
from typing import Dict, Iterable, Mapping

import numpy as np

from databases.base import PathLike
from infra.atomic_io import atomic_file

_REMAKE = "Re-create it with `python -m databases.prepare` (see --help)."


def load_npz(path: PathLike, required_keys: Iterable[str]) -> Dict[str, np.ndarray]:
    """Reads every array of `path`, turning any decoding failure into a clear error."""
    path = pathlib.Path(path)
    try:
        # allow_pickle=False: the format has no object arrays, and pickles can run code.
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as error:
        raise ValueError(f"Cannot read {path}: it is not a valid .npz archive "
                         f"({type(error).__name__}: {error}). {_REMAKE}") from error
    missing = sorted(set(required_keys) - set(arrays))
    if missing:
        raise ValueError(f"{path} lacks the keys {missing} (it has {sorted(arrays)}). {_REMAKE}")
    return arrays


def check_same_length(arrays: Mapping[str, np.ndarray], keys: Iterable[str], source: PathLike):
    """Raises if the arrays named `keys` do not all have the same first dimension."""
    lengths = {key: len(arrays[key]) for key in keys}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"{source}: arrays must have equal lengths, got {lengths}. {_REMAKE}")


def save_npz_atomic(path: PathLike, arrays: Mapping[str, np.ndarray]):
    """Writes a compressed .npz so that readers never see a half-written file."""
    path = pathlib.Path(path)
    arrays = {key: np.asarray(value) for key, value in arrays.items()}
    pickled = [key for key, value in arrays.items() if value.dtype == object]
    if pickled:
        # load_npz refuses pickles, so such a file could never be read back.
        raise ValueError(f"Cannot write {path}: arrays {pickled} have dtype object.")
    with atomic_file(path) as file:
        np.savez_compressed(file, **arrays)
