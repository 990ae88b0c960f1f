"""A run's components from its configuration: the data, the label budget, the GAN and its
generated tasks, the task mix, the meta-learner and the distribution strategy.

The trainer builds a run from these; scripts that need one component without training
(train_gan, task_difficulty, label_budgets, bench_maml) build it the same way, so that what
they measure or cache is what a run would use."""
import os

import numpy as np
import tensorflow as tf

from databases import get_database
from meta.config import GENERATED_METHODS, mixes_streams
from meta.gan_training import GANConfig, train_or_load_gan
from meta.maml import MAML, InnerLoop
from meta.protonets import ProtoNets
from tasks import label_budget
from tasks.augmentation import QueryShift
from tasks.labeled import TaskShape
from tasks.lasium import GeneratedTasks, LasiumConfig
from tasks.mixing import MixConfig
from tasks.seeding import derive_seed


def load_database(c):
    return get_database(c.dataset, data_dir=c.data_dir, seed=derive_seed(c.seed, "split"),
                        **({"split": c.omniglot_split} if c.dataset == "omniglot" else {}))


def labeled_images(c, train) -> np.ndarray:
    """Mask of the training images whose labels the budget keeps; the rest is unlabeled."""
    return label_budget.select_labeled(train.labels, c.label_scheme, c.label_fraction,
                                       derive_seed(c.seed, "labels"))


def gan_inputs(c, train, labeled_mask):
    """The GAN's training images (never validation or test classes) and, for ssml_ssg,
    its labeled images with their classes renumbered 0..K-1 (else None)."""
    images = train.images if c.gan_data == "all" else train.images[~labeled_mask]
    if c.method != "ssml_ssg":
        return images, None
    classes = np.unique(train.labels[labeled_mask], return_inverse=True)[1].astype(np.int32)
    return images, (train.images[labeled_mask], classes)


def gan_config(c, num_classes: int = 0) -> GANConfig:
    return GANConfig(epochs=c.gan_epochs, batch_size=c.gan_batch_size, learning_rate=c.gan_lr,
                     label_noise=c.gan_label_noise, diversity_weight=c.gan_diversity_weight,
                     diversity_pairs=c.gan_diversity_pairs,
                     checkpoint_every=c.gan_checkpoint_every, seed=derive_seed(c.seed, "gan"),
                     num_classes=num_classes, formulation=c.ssg_formulation,
                     supervised_weight=c.ssg_supervised_weight, class_weight=c.ssg_class_weight,
                     feature_matching=c.ssg_feature_matching, precision=c.gan_precision)


def train_or_load_run_gan(c, train, labeled_mask):
    """The GAN of run configuration `c` (trained, or loaded from the cache)."""
    images, labeled = gan_inputs(c, train, labeled_mask)
    num_classes = 0 if labeled is None else int(labeled[1].max()) + 1
    return train_or_load_gan(c.dataset, images, gan_config(c, num_classes), c.gan_dir, labeled)


def generated_tasks(c, gan, shape: TaskShape, image_shape) -> GeneratedTasks:
    """The LASIUM tasks that run configuration `c` draws from `gan`."""
    lasium = LasiumConfig(c.lasium, c.lasium_sigma, c.lasium_ro_alpha, c.lasium_oc_alpha,
                          c.lasium_anchor_epsilon, c.lasium_anchor_support)
    return GeneratedTasks(gan.generator, gan.latent_dim, shape, image_shape, lasium,
                          query_shift(c) if c.query_augmentation else None,
                          gan.num_classes, c.ssg_mix_classes)


def query_shift(c) -> QueryShift:
    return QueryShift(c.query_shift, c.query_shift_max)


def mix_config(c) -> MixConfig:
    """maml, labeled_only: labeled tasks only; lasium: generated only; ssml: the mix the
    flags choose (generated only where no label exists, which is LASIUM)."""
    if mixes_streams(c.method, c.label_fraction):
        return MixConfig(c.mix, c.labeled_share, c.mix_block, c.labeled_share_start, c.iterations)
    return MixConfig("batch", 0.0 if c.method in GENERATED_METHODS else 1.0)


def make_learner(c, model, optimizer, strategy, weights):
    options = dict(clip_norm=c.clip_norm, strategy=strategy, jit_compile=c.xla,
                   task_weights=weights)
    if c.learner == "protonets":
        return ProtoNets(model, optimizer, **options)
    return MAML(model, optimizer, InnerLoop(c.inner_steps, c.inner_lr),
                first_order=c.first_order, **options)


def make_strategy(name: str) -> tf.distribute.Strategy:
    """`mirrored` replicates over all GPUs, or over all logical CPUs where there is no GPU;
    `multi_worker` over the processes that TF_CONFIG lists (each with its GPUs, else its
    CPU), and must be made before this process runs any TensorFlow op."""
    if name == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    if name == "multi_worker":
        if not os.environ.get("TF_CONFIG"):
            raise ValueError("--distribute=multi_worker needs TF_CONFIG (the workers' "
                             "addresses and this one's index, as TensorFlow documents); "
                             "README.md shows a two-worker run.")
        return tf.distribute.MultiWorkerMirroredStrategy()
    return tf.distribute.get_strategy()
