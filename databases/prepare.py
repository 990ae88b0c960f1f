r"""Converts raw Omniglot / mini-ImageNet data into the .npz files the databases read.

  python -m databases.prepare --dataset=omniglot --source=/path/with/images_background \
      --output_dir=data
  python -m databases.prepare --dataset=omniglot --source=tfds --output_dir=data
  python -m databases.prepare --dataset=mini_imagenet --source=/path/with/train_val_test \
      --output_dir=data

--source=tfds needs internet access or an already populated TFDS data dir.
Files are written atomically, so an interrupted run never leaves a truncated npz.
"""
import pathlib
from typing import Dict, Iterable, Mapping, Optional, Sequence

import numpy as np
from absl import app, flags, logging

from infra.entry_point import run_main
from databases import mini_imagenet, npz_io, omniglot
from databases.base import SPLIT_NAMES

FLAGS = flags.FLAGS
flags.DEFINE_enum("dataset", None, ["omniglot", "mini_imagenet"], "Which data set to convert.")
flags.DEFINE_string("source", None, "Folder with the raw data, or 'tfds' (omniglot only).")
flags.DEFINE_string("output_dir", "data", "Folder to write the .npz files into.")

# TFDS calls Lake's background set "train" and the evaluation set "test".
_TFDS_SPLITS = {"train": "background", "test": "evaluation"}


def prepare_omniglot(source: str, output_dir: pathlib.Path) -> pathlib.Path:
    arrays = omniglot_from_tfds() if source == "tfds" else omniglot.read_raw_omniglot(source)
    omniglot.check_omniglot_arrays(arrays, source)
    path = output_dir / omniglot.NPZ_NAME
    npz_io.save_npz_atomic(path, arrays)
    return path


def prepare_mini_imagenet(source: str, output_dir: pathlib.Path) -> Sequence[pathlib.Path]:
    if source == "tfds":
        raise ValueError("TFDS has no mini-ImageNet; pass --source=<folder with train/ val/ "
                         "test/>.")
    # Read every split before writing any, so a bad source leaves no partial output.
    arrays = {split: mini_imagenet.read_raw_mini_imagenet(pathlib.Path(source) / split)
              for split in SPLIT_NAMES}
    paths = []
    for split in SPLIT_NAMES:
        mini_imagenet.check_mini_imagenet_arrays(arrays[split], source)
        paths.append(output_dir / mini_imagenet.npz_name(split))
        npz_io.save_npz_atomic(paths[-1], arrays[split])
    return paths


def omniglot_from_tfds(data_dir: Optional[str] = None) -> Dict[str, np.ndarray]:
    import tensorflow_datasets as tfds  # Only this path needs TFDS.

    datasets, info = tfds.load("omniglot", split=list(_TFDS_SPLITS), data_dir=data_dir,
                               with_info=True)
    names = info.features["alphabet"].names
    parts = [omniglot_from_examples(tfds.as_numpy(ds), split, names)
             for ds, split in zip(datasets, _TFDS_SPLITS.values())]
    return {key: np.concatenate([part[key] for part in parts]) for key in parts[0]}


def omniglot_from_examples(examples: Iterable[Mapping], split: str,
                           alphabet_names: Optional[Sequence[str]] = None) -> Dict[str, np.ndarray]:
    """Converts TFDS-style Omniglot examples of one Lake split into the npz format.

    Each example has `image` (105x105x3 uint8, white background), `label` (char_id - 1),
    `alphabet` (a name, or an index into `alphabet_names`) and `alphabet_char_id`
    (character number - 1). TFDS keeps no drawing number and shuffles its examples, so
    drawings are numbered 1..k per character in the order of their pixel bytes: stable
    across runs, but not Lake's numbering. `path` is rebuilt in Lake's layout.
    """
    rows = []
    for example in examples:
        alphabet = example["alphabet"]
        if not isinstance(alphabet, (str, bytes)):
            alphabet = alphabet_names[int(alphabet)]
        alphabet = alphabet.decode() if isinstance(alphabet, bytes) else alphabet
        background = np.asarray(example["image"])[..., 0] > 127  # True = white, as in the npz
        rows.append((alphabet, int(example["alphabet_char_id"]) + 1, int(example["label"]) + 1,
                     np.packbits(background).tobytes(), background))
    rows.sort(key=lambda row: row[:4])
    drawings, counts = [], {}
    for row in rows:
        counts[row[2]] = counts.get(row[2], 0) + 1
        drawings.append(counts[row[2]])
    folder = omniglot.RAW_FOLDERS[split]
    return {
        "images": np.stack([row[4] for row in rows]),
        "alphabet": np.array([row[0] for row in rows]),
        "character": np.array([row[1] for row in rows], np.int16),
        "char_id": np.array([row[2] for row in rows], np.int16),
        "drawing": np.array(drawings, np.int8),
        "split": np.array([split] * len(rows)),
        "path": np.array([f"{folder}/{a}/character{c:02d}/{i:04d}_{d:02d}.png"
                          for (a, c, i, _, _), d in zip(rows, drawings)]),
    }


def main(argv):
    del argv
    if not FLAGS.dataset or not FLAGS.source:
        raise app.UsageError(
            "Pass --dataset=omniglot|mini_imagenet and --source=<raw folder>|tfds.")
    output_dir = pathlib.Path(FLAGS.output_dir)
    if FLAGS.dataset == "omniglot":
        written = [prepare_omniglot(FLAGS.source, output_dir)]
    else:
        written = prepare_mini_imagenet(FLAGS.source, output_dir)
    for path in written:
        logging.info("Wrote %s", path.resolve())


if __name__ == "__main__":
    run_main(main)
