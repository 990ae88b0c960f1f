"""Tiny synthetic data sets in the real file formats (npz, Lake's PNG folders, Mini-ImageNet's
JPEG folders), for the tests of databases/: no real data needed."""
import pathlib
from typing import Dict, Sequence

import numpy as np
import tensorflow as tf

from databases import npz_io, omniglot
from databases.base import PathLike


def omniglot_arrays(alphabets: Dict[str, int], num_evaluation_alphabets: int = 1,
                    num_drawings: int = 20, size: int = 105,
                    seed: int = 0) -> Dict[str, np.ndarray]:
    """npz-format arrays for `alphabets` ({name: number of characters}); the last
    `num_evaluation_alphabets` alphabets (in name order) form the evaluation split."""
    rng = np.random.default_rng(seed)
    names = sorted(alphabets)
    rows = [(name, character, drawing) for name in names
            for character in range(1, alphabets[name] + 1)
            for drawing in range(1, num_drawings + 1)]
    evaluation = set(names[len(names) - num_evaluation_alphabets:])
    rows.sort(key=lambda row: (row[0] in evaluation, row))  # background rows first, as in the npz
    char_ids = {key: i + 1 for i, key in enumerate(dict.fromkeys(row[:2] for row in rows))}
    split = ["evaluation" if a in evaluation else "background" for a, _, _ in rows]
    char_id = [char_ids[row[:2]] for row in rows]
    return {
        # Mostly white (True) background with ~10% ink, like real Omniglot.
        "images": rng.random((len(rows), size, size)) > 0.1,
        "alphabet": np.array([a for a, _, _ in rows]),
        "character": np.array([c for _, c, _ in rows], np.int16),
        "char_id": np.array(char_id, np.int16),
        "drawing": np.array([d for _, _, d in rows], np.int8),
        "split": np.array(split),
        "path": np.array([f"{omniglot.RAW_FOLDERS[s]}/{a}/character{c:02d}/{i:04d}_{d:02d}.png"
                          for s, (a, c, d), i in zip(split, rows, char_id)]),
    }


def write_omniglot_npz(folder: PathLike, arrays: Dict[str, np.ndarray]) -> pathlib.Path:
    path = pathlib.Path(folder) / omniglot.NPZ_NAME
    npz_io.save_npz_atomic(path, arrays)
    return path


def write_raw_omniglot(folder: PathLike, arrays: Dict[str, np.ndarray]):
    """Writes npz-format arrays as Lake's PNG folders (white background = 255)."""
    for path, image in zip(arrays["path"], arrays["images"]):
        target = pathlib.Path(folder) / str(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(tf.io.encode_png(image[..., None].astype(np.uint8) * 255).numpy())


def write_raw_mini_imagenet(folder: PathLike, classes: Dict[str, Sequence[str]],
                            images_per_class: int, sizes: Sequence[int] = (84,), seed: int = 0):
    """Writes `folder/<split>/<wnid>/<wnid>NNNNNNNN.jpg` for `classes` ({split: [wnid, ...]});
    image k has size sizes[k % len(sizes)], so other sizes exercise the resize."""
    rng = np.random.default_rng(seed)
    for split, wnids in classes.items():
        for wnid in wnids:
            (pathlib.Path(folder) / split / wnid).mkdir(parents=True, exist_ok=True)
            for k in range(images_per_class):
                size = sizes[k % len(sizes)]
                pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
                jpeg = tf.io.encode_jpeg(pixels, quality=95).numpy()
                (pathlib.Path(folder) / split / wnid / f"{wnid}{k:08d}.jpg").write_bytes(jpeg)
