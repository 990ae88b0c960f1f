import numpy as np
import pytest

from tasks import label_budget
from tasks.label_budget import labeled_pool, rounded_count, select_labeled

# 30 classes of unequal sizes (10..39 images).
LABELS = np.concatenate([np.full(10 + c, c) for c in range(30)])


def test_rounding_rule_is_half_up():
    assert [rounded_count(f, 10) for f in (0.0, 0.04, 0.05, 0.149, 0.15, 1.0)] == [0, 0, 1, 1, 2, 10]


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0])
def test_instances_scheme_labels_the_fraction_of_every_class(fraction):
    mask = select_labeled(LABELS, "instances", fraction, seed=3)
    for c in range(30):
        members = LABELS == c
        assert mask[members].sum() == rounded_count(fraction, members.sum())


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0])
def test_classes_scheme_labels_whole_classes(fraction):
    mask = select_labeled(LABELS, "classes", fraction, seed=3)
    labeled = np.unique(LABELS[mask])
    assert len(labeled) == rounded_count(fraction, 30)
    for c in range(30):  # all or nothing per class
        assert mask[LABELS == c].all() == mask[LABELS == c].any() == (c in labeled)


@pytest.mark.parametrize("fraction", [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0])
def test_random_scheme_labels_the_fraction_of_all_images(fraction):
    mask = select_labeled(LABELS, "random", fraction, seed=3)
    assert mask.sum() == rounded_count(fraction, len(LABELS))


@pytest.mark.parametrize("scheme", label_budget.SCHEMES)
def test_selection_is_fixed_by_the_seed(scheme):
    a = select_labeled(LABELS, scheme, 0.3, seed=1)
    assert np.array_equal(a, select_labeled(LABELS, scheme, 0.3, seed=1))
    assert not np.array_equal(a, select_labeled(LABELS, scheme, 0.3, seed=2))


def test_bad_scheme_and_fraction_are_refused():
    with pytest.raises(ValueError, match="--label_scheme"):
        select_labeled(LABELS, "some", 0.5, 0)
    with pytest.raises(ValueError, match="--label_fraction"):
        select_labeled(LABELS, "random", 1.5, 0)


def test_pool_drops_classes_with_too_few_labeled_images():
    mask = select_labeled(LABELS, "instances", 0.2, seed=0)  # 2..8 labeled per class
    pool = labeled_pool(LABELS, mask, min_per_class=6)
    counts = np.bincount(LABELS[mask], minlength=30)
    assert pool.num_classes == (counts >= 6).sum()
    assert pool.num_classes_dropped == 30 - pool.num_classes
    assert pool.num_labeled == mask.sum()
    assert set(np.unique(LABELS[pool.indices])) == set(np.flatnonzero(counts >= 6))
    assert mask[pool.indices].all()
