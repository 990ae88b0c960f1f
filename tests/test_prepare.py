"""Tests of `python -m databases.prepare` conversions on tiny synthetic raw data."""
import numpy as np
import pytest

import synthetic
from databases import prepare
from databases.mini_imagenet import MiniImagenet
from databases.omniglot import NPZ_KEYS, Omniglot, read_raw_omniglot

ALPHABETS = {"Alpha": 3, "Beta": 2, "Gamma": 2}


def assert_same_database(a, b):
    for split in ("train", "val", "test"):
        assert a.split(split).class_names == b.split(split).class_names
        assert np.array_equal(a.split(split).labels, b.split(split).labels)
        assert np.array_equal(a.split(split).images, b.split(split).images)


def test_omniglot_raw_to_npz(tmp_path):
    arrays = synthetic.omniglot_arrays(ALPHABETS, num_drawings=3)
    synthetic.write_raw_omniglot(tmp_path / "raw", arrays)
    path = prepare.prepare_omniglot(str(tmp_path / "raw"), tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["omniglot.npz"]  # no temp files
    with np.load(path) as written:
        for key in NPZ_KEYS:
            assert np.array_equal(written[key], arrays[key]), key
    options = dict(num_train_classes=4, num_val_classes=2)
    assert_same_database(Omniglot(tmp_path / "out", **options),
                         Omniglot(tmp_path / "raw", **options))


def test_raw_omniglot_needs_pngs(tmp_path):
    with pytest.raises(FileNotFoundError, match="images_background"):
        read_raw_omniglot(tmp_path)


def test_omniglot_from_tfds_examples():
    arrays = synthetic.omniglot_arrays({"Alpha": 2}, num_drawings=2)
    # TFDS style: RGB uint8 images, 0-based label/alphabet_char_id, alphabet as an index, shuffled.
    examples = [{"image": np.repeat(image[..., None].astype(np.uint8) * 255, 3, axis=-1),
                 "label": char_id - 1, "alphabet": 0, "alphabet_char_id": character - 1}
                for image, char_id, character
                in zip(arrays["images"], arrays["char_id"], arrays["character"])]
    converted = prepare.omniglot_from_examples(examples[::-1], "evaluation",
                                               alphabet_names=["Alpha"])
    assert converted.keys() == set(NPZ_KEYS)
    assert list(converted["char_id"]) == [1, 1, 2, 2] and list(converted["drawing"]) == [1, 2, 1, 2]
    assert converted["path"][2] == "images_evaluation/Alpha/character02/0002_01.png"
    assert set(converted["split"]) == {"evaluation"} and converted["images"].dtype == bool
    for char_id in (1, 2):  # same drawings per character, in some order
        got = {im.tobytes() for im in converted["images"][converted["char_id"] == char_id]}
        assert got == {im.tobytes() for im in arrays["images"][arrays["char_id"] == char_id]}


def test_mini_imagenet_raw_to_npz(tmp_path):
    classes = {"train": ["n01", "n02"], "val": ["n03"], "test": ["n04"]}
    synthetic.write_raw_mini_imagenet(tmp_path / "raw", classes, 2, sizes=(84, 90))
    paths = prepare.prepare_mini_imagenet(str(tmp_path / "raw"), tmp_path / "out")
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    expected = [f"mini_imagenet_{split}.npz" for split in ("test", "train", "val")]
    assert names == sorted(p.name for p in paths) == expected
    assert_same_database(MiniImagenet(tmp_path / "out"), MiniImagenet(tmp_path / "raw"))


def test_failed_write_leaves_no_temp_file(tmp_path, monkeypatch):
    save = prepare.npz_io.save_npz_atomic
    with pytest.raises(ValueError, match="dtype object"):
        save(tmp_path / "x.npz", {"bad": np.array([None])})

    def interrupted(file, **arrays):
        file.write(b"half")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez_compressed", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save(tmp_path / "x.npz", {"good": np.zeros(3)})
    assert list(tmp_path.iterdir()) == []
