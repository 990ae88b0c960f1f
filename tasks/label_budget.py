"""Which training images carry labels: the three label-budget schemes.

* ``instances``: a fraction X of the instances of every training class.
* ``classes``:   all instances of a fraction X of the training classes.
* ``random``:    a uniformly random fraction X of all training instances.

Rounding rule (all schemes): a count is ``floor(X * total + 0.5)``, i.e. rounded half
up, where ``total`` is the class size (instances), the number of classes (classes) or
the number of images (random). The selection is exact and depends only on the seed.
Everything not selected is the unlabeled pool, available to the GAN.
"""
import dataclasses

import numpy as np

SCHEMES = ("instances", "classes", "random")


def rounded_count(fraction: float, total: int) -> int:
    return int(np.floor(fraction * total + 0.5))


def select_labeled(labels: np.ndarray, scheme: str, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask over `labels`: True where the image's label may be used."""
    if scheme not in SCHEMES:
        raise ValueError(f"--label_scheme={scheme!r} is not one of {SCHEMES}.")
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"--label_fraction={fraction} must lie in [0, 1].")
    rng = np.random.default_rng(seed)
    mask = np.zeros(len(labels), dtype=bool)
    if scheme == "random":
        mask[rng.permutation(len(labels))[: rounded_count(fraction, len(labels))]] = True
    elif scheme == "classes":
        classes = np.unique(labels)
        chosen = rng.permutation(classes)[: rounded_count(fraction, len(classes))]
        mask[np.isin(labels, chosen)] = True
    else:  # instances
        for c in np.unique(labels):
            members = np.flatnonzero(labels == c)
            mask[rng.permutation(members)[: rounded_count(fraction, len(members))]] = True
    return mask


@dataclasses.dataclass(frozen=True)
class LabeledPool:
    """The labeled images that can form tasks, and what the budget left out."""

    indices: np.ndarray  # image indices whose class has enough labeled images
    num_labeled: int  # all labeled images, usable or not
    num_classes: int  # classes with at least `min_per_class` labeled images
    num_classes_dropped: int  # classes with some, but too few, labeled images

    def summary(self) -> str:
        return (f"{self.num_labeled} labeled images; {self.num_classes} classes usable for "
                f"tasks, {self.num_classes_dropped} dropped for having too few labeled images")


def labeled_pool(labels: np.ndarray, mask: np.ndarray, min_per_class: int) -> LabeledPool:
    """Keep the labeled images of classes that have >= `min_per_class` of them."""
    classes, counts = np.unique(labels[mask], return_counts=True)
    usable = classes[counts >= min_per_class]
    keep = mask & np.isin(labels, usable)
    return LabeledPool(indices=np.flatnonzero(keep), num_labeled=int(mask.sum()),
                       num_classes=len(usable), num_classes_dropped=len(classes) - len(usable))
