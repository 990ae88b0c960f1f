"""Common data types for the image databases, the data-folder search and the registry.

Every database keeps its images decoded as uint8 (N, H, W, C) so that one pipeline
code path serves Omniglot (28x28x1) and mini-ImageNet (84x84x3); consumers divide
by 255 when they need floats.
"""
import abc
import dataclasses
import os
import pathlib
from typing import Optional, Sequence, Tuple, Union

import numpy as np
from absl import logging

PathLike = Union[str, os.PathLike]

DATA_DIR_ENV = "SSML_DATA_DIR"
SPLIT_NAMES = ("train", "val", "test")


@dataclasses.dataclass(frozen=True, eq=False, repr=False)
class Split:
    """The images of one split; `labels[i]` indexes `class_names`."""

    images: np.ndarray
    labels: np.ndarray
    class_names: Tuple[str, ...]

    def __post_init__(self):
        images, labels = self.images, self.labels
        if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
            raise ValueError(
                "Split.images must be a uint8 array of shape (num_images, H, W, C), got "
                f"{_describe(images)}.")
        if (not isinstance(labels, np.ndarray) or labels.dtype != np.int32
                or labels.shape != images.shape[:1]):
            raise ValueError(
                f"Split.labels must be an int32 array of shape ({len(images)},), got "
                f"{_describe(labels)}.")
        names = self.class_names
        if not isinstance(names, tuple) or not all(isinstance(c, str) for c in names):
            raise ValueError("Split.class_names must be a tuple of str.")
        if len(set(names)) != len(names):
            raise ValueError("Split.class_names has duplicates; each class needs a unique name.")
        if labels.size and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"Split.labels must lie in [0, {self.num_classes}), got "
                f"[{labels.min()}, {labels.max()}].")

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def __repr__(self):
        return (f"Split(images={self.images.shape}, num_classes={self.num_classes})")


class Database(abc.ABC):
    """An image database with three class-disjoint splits.

    Subclasses set `name`, `image_shape` and `required_names` (the file or folder
    names that mark a folder holding their data), and implement `_load_splits`.
    """

    name: str
    image_shape: Tuple[int, int, int]
    required_names: Tuple[str, ...]

    def __init__(self, data_dir: Optional[PathLike] = None, seed: int = 0):
        directory = find_data_dir(self.required_names, data_dir)
        self.source, (self.train, self.val, self.test) = self._load_splits(directory, seed)
        self._check_splits()

    @abc.abstractmethod
    def _load_splits(self, directory: pathlib.Path,
                     seed: int) -> Tuple[str, Tuple[Split, Split, Split]]:
        """Returns (source file or folder, (train, val, test))."""

    def split(self, name: str) -> Split:
        if name not in SPLIT_NAMES:
            raise ValueError(f"Unknown split {name!r}; use one of {SPLIT_NAMES}.")
        return getattr(self, name)

    def _check_splits(self):
        seen = {}
        for split_name in SPLIT_NAMES:
            split = self.split(split_name)
            if split.images.shape[1:] != self.image_shape:
                raise ValueError(
                    f"{self.name} {split_name} images have shape {split.images.shape[1:]}, "
                    f"expected {self.image_shape}.")
            for class_name in split.class_names:
                if class_name in seen:
                    raise ValueError(
                        f"{self.name}: class {class_name!r} is in both the {seen[class_name]} "
                        f"and the {split_name} split; splits must be class-disjoint.")
                seen[class_name] = split_name

    def __repr__(self):
        return (f"{type(self).__name__}(source={self.source!r}, train={self.train}, "
                f"val={self.val}, test={self.test})")


def _describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"{x.dtype} array of shape {x.shape}"
    return type(x).__name__


def _candidate_dirs(data_dir: Optional[PathLike]) -> Sequence[pathlib.Path]:
    if data_dir is not None:
        # An explicit choice wins alone: silently falling back elsewhere would hide typos.
        return [pathlib.Path(data_dir)]
    candidates = []
    if os.environ.get(DATA_DIR_ENV):
        candidates.append(pathlib.Path(os.environ[DATA_DIR_ENV]))
    candidates += [pathlib.Path("data"), pathlib.Path("..", "shared", "data")]
    repo_root = pathlib.Path(__file__).resolve().parent.parent
    candidates.append(repo_root.parent / "shared" / "data")
    return candidates


def find_data_dir(required_names: Sequence[str],
                  data_dir: Optional[PathLike] = None) -> pathlib.Path:
    """Returns the first folder that holds any of `required_names`.

    Order: `data_dir` (if given, only it), $SSML_DATA_DIR, ./data, ../shared/data,
    and <repo root>/../shared/data (so it works from any working directory).
    """
    searched = []
    for candidate in _candidate_dirs(data_dir):
        if candidate.resolve() in searched:
            continue
        searched.append(candidate.resolve())
        if any((candidate / name).exists() for name in required_names):
            logging.info("Found data %s in %s", list(required_names), candidate.resolve())
            return candidate.resolve()
    places = "\n".join(f"  {p}" for p in searched)
    raise FileNotFoundError(
        f"None of {list(required_names)} was found in any of these folders:\n{places}\n"
        f"Pass --data_dir=<folder> or set {DATA_DIR_ENV} to the folder holding the data. "
        "To create the files from raw data, run `python -m databases.prepare`.")


def get_database(name: str, data_dir: Optional[PathLike] = None, seed: int = 0,
                 **options) -> Database:
    """Builds the database `name` ("omniglot" or "mini_imagenet")."""
    # Imported here because the database modules import this one.
    from databases.mini_imagenet import MiniImagenet
    from databases.omniglot import Omniglot

    registry = {cls.name: cls for cls in (Omniglot, MiniImagenet)}
    if name not in registry:
        raise ValueError(f"Unknown database {name!r}; valid names are {sorted(registry)}.")
    return registry[name](data_dir=data_dir, seed=seed, **options)
