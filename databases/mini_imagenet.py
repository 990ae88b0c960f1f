"""mini-ImageNet with the Ravi & Larochelle split (64 / 16 / 20 classes, 600 images each).

Images are 84x84x3 uint8 RGB. The split is fixed by the files, so the seed is unused.
Data come from `mini_imagenet_{train,val,test}.npz` (JPEG bytes + offsets, see
PROVENANCE.md) or, per split, from a raw folder `{train,val,test}/<wnid>/*.jpg`.
Both go through the same decoding code, so they give identical pixels.
"""
import hashlib
import pathlib
from typing import Dict, Tuple

import numpy as np
import tensorflow as tf

from databases import npz_io
from databases.base import SPLIT_NAMES, Database, PathLike, Split
from databases.decoding import decode_all, to_uint8

NPZ_KEYS = ("jpeg", "offsets", "filename", "wnid", "label", "classes")
IMAGE_SIZE = 84
_JPEG_SUFFIXES = (".jpg", ".jpeg")


def npz_name(split: str) -> str:
    return f"mini_imagenet_{split}.npz"


class MiniImagenet(Database):
    name = "mini_imagenet"
    image_shape = (IMAGE_SIZE, IMAGE_SIZE, 3)
    required_names = (npz_name("train"), "train")

    def _load_splits(self, directory: pathlib.Path, seed: int):
        del seed  # The Ravi split is fixed by the files.
        splits = []
        for split_name in SPLIT_NAMES:
            arrays, source = read_mini_imagenet_arrays(directory, split_name)
            splits.append(decode_split(arrays, source))
        return str(directory), tuple(splits)


def read_mini_imagenet_arrays(directory: pathlib.Path,
                              split: str) -> Tuple[Dict[str, np.ndarray], pathlib.Path]:
    """Returns the npz-format arrays of `split`, from its npz file, else from its raw folder."""
    npz_path, raw_dir = directory / npz_name(split), directory / split
    if npz_path.exists():
        arrays, source = npz_io.load_npz(npz_path, NPZ_KEYS), npz_path
    elif raw_dir.is_dir():
        arrays, source = read_raw_mini_imagenet(raw_dir), raw_dir
    else:
        raise FileNotFoundError(
            f"mini-ImageNet {split} split not found: neither {npz_path} nor a folder "
            f"{raw_dir}/<wnid>/*.jpg exists. Create the npz files with "
            "`python -m databases.prepare --dataset=mini_imagenet`.")
    check_mini_imagenet_arrays(arrays, source)
    return arrays, source


def check_mini_imagenet_arrays(arrays: Dict[str, np.ndarray], source: PathLike):
    npz_io.check_same_length(arrays, ("filename", "wnid", "label"), source)
    jpeg, offsets = arrays["jpeg"], arrays["offsets"]
    label, classes = arrays["label"], arrays["classes"]
    problems = []
    if jpeg.dtype != np.uint8 or jpeg.ndim != 1:
        problems.append(f"'jpeg' must be 1-D uint8, got {jpeg.dtype} {jpeg.shape}")
    if offsets.shape != (len(label) + 1,) or offsets[0] != 0 or offsets[-1] != len(jpeg) \
            or np.any(np.diff(offsets) <= 0):
        problems.append("'offsets' must rise strictly from 0 to len(jpeg), one entry longer "
                        "than 'label'")
    if np.any((label < 0) | (label >= len(classes))):
        problems.append(f"'label' must index 'classes' (0..{len(classes) - 1})")
    elif np.any(classes[label] != arrays["wnid"]):
        problems.append("'classes[label]' must equal 'wnid'")
    if problems:
        raise ValueError(f"{source} is inconsistent: {'; '.join(problems)}. "
                         "Re-create it with `python -m databases.prepare --dataset=mini_imagenet`.")


def decode_split(arrays: Dict[str, np.ndarray], source: PathLike) -> Split:
    jpeg, offsets = arrays["jpeg"], arrays["offsets"]
    encoded = [jpeg[start:end].tobytes() for start, end in zip(offsets[:-1], offsets[1:])]
    images = decode_all(encoded, decode_jpeg, MiniImagenet.image_shape, source)
    return Split(images, arrays["label"].astype(np.int32), tuple(str(c) for c in arrays["classes"]))


def decode_jpeg(data: tf.Tensor) -> tf.Tensor:
    """Decodes to RGB, resizing to 84x84 only when a raw image has another size.

    The resize is bilinear with antialiasing, i.e. a proper low-pass filter when
    shrinking full-size ImageNet photos, close to PIL's ANTIALIAS used by common
    mini-ImageNet conversions.
    INTEGER_ACCURATE is libjpeg's exact IDCT (TF's default is the fast, lossier one);
    with it our pixels equal Pillow's, i.e. the checksums in PROVENANCE.md.
    """
    image = tf.io.decode_jpeg(data, channels=3, dct_method="INTEGER_ACCURATE")
    return tf.cond(
        tf.reduce_all(tf.shape(image)[:2] == IMAGE_SIZE),
        lambda: image,
        lambda: to_uint8(tf.image.resize(image, (IMAGE_SIZE, IMAGE_SIZE), antialias=True)))


def read_raw_mini_imagenet(split_folder: PathLike) -> Dict[str, np.ndarray]:
    """Reads `split_folder/<wnid>/*.jpg` into the npz format, classes and files sorted by name."""
    split_folder = pathlib.Path(split_folder)
    if not split_folder.is_dir():
        raise FileNotFoundError(f"No folder {split_folder}; expected <wnid>/<name>.jpg inside it.")
    files = [(class_dir.name, path)
             for class_dir in sorted(p for p in split_folder.iterdir() if p.is_dir())
             for path in sorted(class_dir.iterdir()) if path.suffix.lower() in _JPEG_SUFFIXES]
    if not files:
        raise FileNotFoundError(
            f"No JPEG files in {split_folder}; expected <wnid>/<name>.jpg inside it.")
    wnids = np.array([wnid for wnid, _ in files])
    classes, label = np.unique(wnids, return_inverse=True)
    blobs = [path.read_bytes() for _, path in files]
    return {
        "jpeg": np.frombuffer(b"".join(blobs), np.uint8),
        "offsets": np.concatenate([[0], np.cumsum([len(b) for b in blobs])]).astype(np.int64),
        "filename": np.array([path.name for _, path in files]),
        "wnid": wnids,
        "label": label.astype(np.int16),
        "classes": classes,
        "orig_sha256": np.array([list(hashlib.sha256(b).digest()) for b in blobs], np.uint8),
    }
