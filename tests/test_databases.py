"""Tests of databases/ on tiny synthetic data (plus one smoke test on the real Omniglot)."""
import pathlib

import numpy as np
import pytest
import tensorflow as tf

import synthetic
from databases import Database, Split, find_data_dir, get_database
from databases.mini_imagenet import MiniImagenet, read_raw_mini_imagenet
from databases.npz_io import save_npz_atomic
from databases.omniglot import Omniglot, to_ink_images

REAL_DATA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"
# 2 background alphabets (4 + 3 characters) and 1 evaluation alphabet (3 characters).
ALPHABETS = {"Alpha": 4, "Beta": 3, "Gamma": 3}


@pytest.fixture(scope="module")
def omniglot_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("omniglot")
    synthetic.write_omniglot_npz(folder, synthetic.omniglot_arrays(ALPHABETS, num_drawings=5))
    return folder


def class_sets(db):
    return [set(split.class_names) for split in (db.train, db.val, db.test)]


def test_character_split_sizes_and_disjoint(omniglot_dir):
    db = Omniglot(omniglot_dir, num_train_classes=6, num_val_classes=2)
    train, val, test = class_sets(db)
    assert (len(train), len(val), len(test)) == (6, 2, 2)
    assert not (train & val or train & test or val & test)
    for split in (db.train, db.val, db.test):
        assert np.array_equal(np.bincount(split.labels), [5] * split.num_classes)
        assert np.all(np.diff(split.labels) >= 0)  # grouped by label, in order
    assert db.train.class_names[0].count("/character") == 1


def test_character_split_depends_on_seed_only(omniglot_dir):
    def split_of(seed):
        return class_sets(Omniglot(omniglot_dir, seed=seed, num_train_classes=6, num_val_classes=2))
    assert split_of(1) == split_of(1)
    assert any(split_of(seed) != split_of(1) for seed in (2, 3, 4))


def test_alphabet_split(omniglot_dir):
    db = Omniglot(omniglot_dir, split="alphabet", num_val_classes=3)
    alphabets = [{name.split("/")[0] for name in names} for names in class_sets(db)]
    assert alphabets[2] == {"Gamma"}  # the evaluation alphabet
    assert len(alphabets[1]) == 1 and not alphabets[0] & alphabets[1]
    assert db.val.num_classes >= 3 and db.train.num_classes + db.val.num_classes == 7


@pytest.mark.parametrize("options, message", [
    (dict(num_train_classes=9, num_val_classes=2), "lower num_train_classes"),
    (dict(split="alphabet", num_val_classes=7), "Lower num_val_classes"),
    (dict(split="alphabet", num_train_classes=5), "only applies to split='character'"),
    (dict(split="stroke"), "use 'character' or 'alphabet'"),
])
def test_bad_split_options(omniglot_dir, options, message):
    with pytest.raises(ValueError, match=message):
        Omniglot(omniglot_dir, **options)


def test_polarity_and_resize():
    background = np.ones((2, 105, 105), bool)
    background[0, 20:60, 20:60] = False  # a solid ink square in image 0
    images = to_ink_images(background)
    assert images.shape == (2, 28, 28, 1) and images.dtype == np.uint8
    assert images[0, 8, 8, 0] == 255 and images[0, 0, 0, 0] == 0
    assert not images[1].any()
    # Area resizing keeps the ink mass: 40*40 of 105*105 pixels.
    assert images[0].sum() / 255 / 28**2 == pytest.approx(1600 / 105**2, rel=0.02)
    assert np.array_equal(to_ink_images(background.astype(np.uint8) * 255), images)


def test_find_data_dir_order(tmp_path, monkeypatch):
    explicit, env, cwd = (tmp_path / name for name in ("explicit", "env", "cwd"))
    for folder in (explicit, env, cwd / "data"):
        folder.mkdir(parents=True)
        (folder / "x.npz").touch()
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("SSML_DATA_DIR", str(env))
    assert find_data_dir(["x.npz"], explicit) == explicit.resolve()
    assert find_data_dir(["x.npz"]) == env.resolve()
    monkeypatch.delenv("SSML_DATA_DIR")
    assert find_data_dir(["x.npz"]) == (cwd / "data").resolve()


def test_find_data_dir_error_lists_places(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SSML_DATA_DIR", str(tmp_path / "env"))
    with pytest.raises(FileNotFoundError) as error:
        find_data_dir(["no_such_file.npz"])
    for text in (str(tmp_path / "env"), str(tmp_path / "data"), "--data_dir", "SSML_DATA_DIR",
                 "python -m databases.prepare"):
        assert text in str(error.value)
    with pytest.raises(FileNotFoundError, match="explicit"):
        find_data_dir(["no_such_file.npz"], tmp_path / "explicit")


def test_truncated_npz(tmp_path, omniglot_dir):
    data = (omniglot_dir / "omniglot.npz").read_bytes()
    (tmp_path / "omniglot.npz").write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"omniglot\.npz.*python -m databases\.prepare"):
        Omniglot(tmp_path)


def test_missing_keys_and_bad_lengths(tmp_path):
    arrays = synthetic.omniglot_arrays({"A": 2, "B": 1}, num_drawings=2)
    save_npz_atomic(tmp_path / "omniglot.npz", {k: v for k, v in arrays.items() if k != "char_id"})
    with pytest.raises(ValueError, match=r"lacks the keys \['char_id'\]"):
        Omniglot(tmp_path)
    save_npz_atomic(tmp_path / "omniglot.npz", dict(arrays, drawing=arrays["drawing"][:-1]))
    with pytest.raises(ValueError, match="equal lengths"):
        Omniglot(tmp_path)


def test_split_validation():
    with pytest.raises(ValueError, match="uint8"):
        Split(np.zeros((2, 4, 4, 1), np.float32), np.zeros(2, np.int32), ("a",))
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        Split(np.zeros((2, 4, 4, 1), np.uint8), np.array([0, 1], np.int32), ("a",))


def test_get_database_registry(omniglot_dir):
    db = get_database("omniglot", omniglot_dir, num_train_classes=6, num_val_classes=2)
    assert isinstance(db, Database)
    with pytest.raises(ValueError, match="mini_imagenet"):
        get_database("cifar")


MINI_CLASSES = {"train": ["n01", "n02", "n03"], "val": ["n04", "n05"], "test": ["n06", "n07"]}


def check_mini_imagenet(db):
    assert db.image_shape == (84, 84, 3)
    for split_name, wnids in MINI_CLASSES.items():
        split = db.split(split_name)
        assert split.images.shape == (len(wnids) * 3, 84, 84, 3) and split.images.dtype == np.uint8
        assert split.class_names == tuple(wnids)
        assert np.array_equal(np.bincount(split.labels), [3] * len(wnids))


def test_mini_imagenet_raw_folder(tmp_path):
    synthetic.write_raw_mini_imagenet(tmp_path, MINI_CLASSES, 3, sizes=(84, 100))
    db = MiniImagenet(tmp_path)
    check_mini_imagenet(db)
    assert db.source == str(tmp_path.resolve())


def test_mini_imagenet_npz(tmp_path):
    raw, npz = tmp_path / "raw", tmp_path / "npz"
    synthetic.write_raw_mini_imagenet(raw, MINI_CLASSES, 3)
    for split in MINI_CLASSES:
        save_npz_atomic(npz / f"mini_imagenet_{split}.npz", read_raw_mini_imagenet(raw / split))
    db = MiniImagenet(npz)
    check_mini_imagenet(db)
    first_file = (raw / "train" / "n01" / "n0100000000.jpg").read_bytes()
    original = tf.io.decode_jpeg(first_file, dct_method="INTEGER_ACCURATE")
    assert np.array_equal(db.train.images[0], original.numpy())


def test_mini_imagenet_corrupt_jpeg(tmp_path):
    synthetic.write_raw_mini_imagenet(tmp_path, MINI_CLASSES, 1)
    arrays = read_raw_mini_imagenet(tmp_path / "train")
    jpeg = arrays["jpeg"].copy()
    jpeg[: arrays["offsets"][1]] = 0  # wipe the first image
    save_npz_atomic(tmp_path / "mini_imagenet_train.npz", dict(arrays, jpeg=jpeg))
    with pytest.raises(ValueError, match="Cannot decode.*mini_imagenet_train.npz"):
        MiniImagenet(tmp_path)


def test_mini_imagenet_bad_offsets(tmp_path):
    synthetic.write_raw_mini_imagenet(tmp_path, MINI_CLASSES, 1)
    arrays = read_raw_mini_imagenet(tmp_path / "train")
    save_npz_atomic(tmp_path / "mini_imagenet_train.npz",
                    dict(arrays, offsets=arrays["offsets"][:-1]))
    with pytest.raises(ValueError, match="inconsistent: 'offsets'"):
        MiniImagenet(tmp_path)


@pytest.mark.skipif(not (REAL_DATA / "omniglot.npz").exists(), reason="real Omniglot not present")
def test_real_omniglot():
    db = Omniglot(REAL_DATA)
    assert [s.num_classes for s in (db.train, db.val, db.test)] == [1200, 100, 323]
    for split in (db.train, db.val, db.test):
        assert split.images.shape[1:] == (28, 28, 1)
        assert np.all(np.bincount(split.labels) == 20)
        assert 0.05 < split.images.mean() / 255 < 0.15  # ink is the minority, ~8 %
