"""Omniglot (Lake et al., 2015): 1,623 handwritten characters, 20 drawings each.

Images are 28x28x1 uint8. POLARITY, used everywhere in this project:
ink = 255 (1.0 after dividing by 255), background = 0. The source data have the
opposite convention (PNG white background; in omniglot.npz True = white), so we invert.

One class is one character (`char_id`). Two split protocols:
  * "character" (default, LASIUM/UMTRA): a seeded permutation of all characters into
    `num_train_classes` / `num_val_classes` / the rest (1200 / 100 / 323).
  * "alphabet" (Lake's): test = the evaluation characters; val = whole background
    alphabets, drawn in a seeded order until they hold >= `num_val_classes`
    characters; train = the remaining background characters.
"""
import pathlib
import re
from typing import Dict, List, Optional, Tuple

import numpy as np
import tensorflow as tf
from absl import logging

from databases import npz_io
from databases.base import Database, PathLike, Split
from databases.decoding import decode_all, to_uint8

NPZ_NAME = "omniglot.npz"
# Lake's two folders, in the order their rows appear in the npz.
RAW_FOLDERS = {"background": "images_background", "evaluation": "images_evaluation"}
NPZ_KEYS = ("images", "alphabet", "character", "char_id", "drawing", "split", "path")
IMAGE_SIZE = 28
_RESIZE_CHUNK = 4096  # bounds the float32 working memory of the resize (~180 MB)
_CHARACTER_DIR = re.compile(r"character(\d+)")
_DRAWING_FILE = re.compile(r"(\d+)_(\d+)\.png")


class Omniglot(Database):
    name = "omniglot"
    image_shape = (IMAGE_SIZE, IMAGE_SIZE, 1)
    required_names = (NPZ_NAME, *RAW_FOLDERS.values())

    def __init__(self, data_dir: Optional[PathLike] = None, seed: int = 0, split: str = "character",
                 num_train_classes: Optional[int] = None, num_val_classes: int = 100):
        if split not in ("character", "alphabet"):
            raise ValueError(f"Unknown Omniglot split {split!r}; use 'character' or 'alphabet'.")
        if split == "alphabet" and num_train_classes is not None:
            raise ValueError("num_train_classes only applies to split='character'; the alphabet "
                             "split trains on every background character not used for validation.")
        self.protocol = split
        self.num_train_classes = 1200 if num_train_classes is None else num_train_classes
        self.num_val_classes = num_val_classes
        super().__init__(data_dir, seed)

    def _load_splits(self, directory: pathlib.Path, seed: int):
        arrays, source = read_omniglot_arrays(directory)
        row_class, classes = _class_table(arrays, source)
        rng = np.random.default_rng(seed)
        if self.protocol == "character":
            groups = _character_split(len(classes["char_id"]), self.num_train_classes,
                                      self.num_val_classes, rng)
        else:
            groups = _alphabet_split(classes, self.num_val_classes, rng)
        images = to_ink_images(arrays["images"])
        names = [f"{a}/character{c:02d}" for a, c in zip(classes["alphabet"], classes["character"])]
        splits = tuple(_make_split(images, row_class, names, group) for group in groups)
        logging.info("Omniglot %s split (seed %d): %s classes", self.protocol, seed,
                     [s.num_classes for s in splits])
        return str(source), splits


def read_omniglot_arrays(directory: pathlib.Path) -> Tuple[Dict[str, np.ndarray], pathlib.Path]:
    """Returns the npz-format arrays from `directory`/omniglot.npz, else from Lake's folders."""
    npz_path = directory / NPZ_NAME
    if npz_path.exists():
        arrays, source = npz_io.load_npz(npz_path, NPZ_KEYS), npz_path
    else:
        arrays, source = read_raw_omniglot(directory), directory
    check_omniglot_arrays(arrays, source)
    return arrays, source


def check_omniglot_arrays(arrays: Dict[str, np.ndarray], source: PathLike):
    npz_io.check_same_length(arrays, NPZ_KEYS, source)
    images = arrays["images"]
    square = images.ndim == 3 and images.shape[1] == images.shape[2]
    if not square or images.dtype not in (np.bool_, np.uint8):
        raise ValueError(
            f"{source}: 'images' must be bool or uint8 of shape (N, S, S), got {images.dtype} "
            f"{images.shape}. Re-create it with `python -m databases.prepare`.")
    unknown = set(np.unique(arrays["split"])) - set(RAW_FOLDERS)
    if unknown:
        raise ValueError(f"{source}: 'split' values must be in {sorted(RAW_FOLDERS)}, "
                         f"got {sorted(unknown)}.")


def to_ink_images(pixels: np.ndarray) -> np.ndarray:
    """Maps (N, S, S) white-background pixels (bool, or uint8 with 255 = white) to
    (N, 28, 28, 1) uint8 with ink = 255.

    Resizing uses "area" averaging: each output pixel is the exact fraction of its
    footprint covered by ink, so total ink mass is kept, there is no ringing, and
    values stay in [0, 1]; thin strokes turn grey rather than vanish or alias.
    """
    scale = 1.0 if pixels.dtype == np.bool_ else 255.0
    out = np.empty((len(pixels), *Omniglot.image_shape), np.uint8)
    for start in range(0, len(pixels), _RESIZE_CHUNK):
        chunk = pixels[start:start + _RESIZE_CHUNK, :, :, None]
        ink = 255.0 * (1.0 - tf.cast(chunk, tf.float32) / scale)
        out[start:start + len(chunk)] = to_uint8(
            tf.image.resize(ink, (IMAGE_SIZE, IMAGE_SIZE), method="area")).numpy()
    return out


def _class_table(arrays, source) -> Tuple[np.ndarray, Dict[str, np.ndarray]]:
    """Returns each row's class index and per-class metadata, classes ordered by char_id."""
    _, first_rows, row_class = np.unique(arrays["char_id"], return_index=True, return_inverse=True)
    keys = ("char_id", "alphabet", "character", "split")
    classes = {key: arrays[key][first_rows] for key in keys}
    for key in ("alphabet", "character", "split"):
        if np.any(arrays[key] != classes[key][row_class]):
            raise ValueError(f"{source}: rows with the same char_id disagree on '{key}'.")
    return row_class, classes


def _character_split(num_classes: int, num_train: int, num_val: int, rng) -> List[np.ndarray]:
    if num_train < 1 or num_val < 1 or num_train + num_val >= num_classes:
        raise ValueError(
            f"Cannot split {num_classes} Omniglot characters into {num_train} train and "
            f"{num_val} val classes with at least one test class; lower num_train_classes "
            "or num_val_classes.")
    order = rng.permutation(num_classes)
    bounds = (num_train, num_train + num_val)
    return [np.sort(part) for part in np.split(order, bounds)]


def _alphabet_split(classes: Dict[str, np.ndarray], num_val: int, rng) -> List[np.ndarray]:
    background = classes["split"] == "background"
    alphabets = np.unique(classes["alphabet"][background])
    val_alphabets, num_val_chars = [], 0
    for alphabet in alphabets[rng.permutation(len(alphabets))]:
        if num_val_chars >= num_val:
            break
        val_alphabets.append(alphabet)
        num_val_chars += int(np.sum(background & (classes["alphabet"] == alphabet)))
    is_val = background & np.isin(classes["alphabet"], val_alphabets)
    groups = [np.flatnonzero(mask) for mask in (background & ~is_val, is_val, ~background)]
    if num_val < 1 or any(len(group) == 0 for group in groups):
        raise ValueError(
            f"The alphabet split needs num_val_classes >= 1, evaluation characters for test, and "
            f"background alphabets left for train after taking {num_val} val characters; got "
            f"{[len(g) for g in groups]} train/val/test classes. Lower num_val_classes.")
    return groups


def _make_split(images: np.ndarray, row_class: np.ndarray, names: List[str],
                group: np.ndarray) -> Split:
    """Gathers the rows of the classes in `group`; label k is class group[k]."""
    label_of_class = np.full(len(names), -1, np.int32)
    label_of_class[group] = np.arange(len(group), dtype=np.int32)
    row_labels = label_of_class[row_class]
    rows = np.flatnonzero(row_labels >= 0)
    rows = rows[np.argsort(row_labels[rows], kind="stable")]
    return Split(images[rows], row_labels[rows], tuple(names[c] for c in group))


def read_raw_omniglot(folder: PathLike) -> Dict[str, np.ndarray]:
    """Reads Lake's layout `images_{background,evaluation}/<alphabet>/characterNN/XXXX_YY.png`
    into arrays in the omniglot.npz format (see PROVENANCE.md), in its row order."""
    folder = pathlib.Path(folder)
    rows = sorted(_raw_rows(folder))
    if not rows:
        raise FileNotFoundError(
            f"No Omniglot PNGs in {folder}: expected {list(RAW_FOLDERS.values())} folders laid out "
            "as <alphabet>/characterNN/XXXX_YY.png (Lake's images_background.zip layout).")
    paths = [row[-1] for row in rows]
    size = tf.io.decode_png(paths[0].read_bytes(), channels=1).shape[:2]
    pixels = decode_all([p.read_bytes() for p in paths], lambda b: tf.io.decode_png(b, channels=1),
                        (*size, 1), folder)
    columns = list(zip(*rows))
    split_order = list(RAW_FOLDERS)
    return {
        "images": pixels[..., 0] > 127,  # True = white background, as in the npz
        "alphabet": np.array(columns[1]),
        "character": np.array(columns[2], np.int16),
        "char_id": np.array(columns[4], np.int16),
        "drawing": np.array(columns[3], np.int8),
        "split": np.array([split_order[i] for i in columns[0]]),
        "path": np.array([p.relative_to(folder).as_posix() for p in paths]),
    }


def _raw_rows(folder: pathlib.Path):
    """Yields (split index, alphabet, character, drawing, char_id, path) for every PNG."""
    for split_index, subfolder in enumerate(RAW_FOLDERS.values()):
        root = folder / subfolder
        alphabets = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        for alphabet in alphabets:
            for character_dir in alphabet.iterdir():
                character = _CHARACTER_DIR.fullmatch(character_dir.name)
                if not character:
                    continue
                for png in character_dir.glob("*.png"):
                    match = _DRAWING_FILE.fullmatch(png.name)
                    if not match:
                        raise ValueError(f"{png}: expected a file name like 0709_01.png.")
                    yield (split_index, alphabet.name, int(character.group(1)), int(match.group(2)),
                           int(match.group(1)), png)
