"""How hard are the tasks MAML trains on? Tasks whose classes a nearest-prototype rule
already tells apart in raw pixels teach no feature; real tasks are far from that.

For a run configuration (data set, seed, label budget, GAN: loaded from the cache, or
trained), `measure` draws tasks of the training shape (N-way, K-shot, --train_query) from
each source and reports:

* prototype accuracy: the share of query images whose nearest support mean, in pixels,
  is their own class's (chance is 1/N), with its 95% interval over tasks;
* spread: the mean distance from a query image to its own class's support mean, over the
  mean distance between support means (near 0: each class is copies of one image).

Sources: generated tasks with the LASIUM sampler's parameter (--lasium_sigma,
--lasium_ro_alpha or --lasium_oc_alpha) set to each of the given values; real tasks of the
test classes; and real tasks of the labeled training classes where the budget keeps enough.
run_scripts/task_difficulty.py is its command line.
"""
import dataclasses

import numpy as np

from meta import builders
from meta.config import SAMPLER_PARAMETER
from meta.statistics import mean_ci95
from tasks import label_budget
from tasks.labeled import TaskSampler, TaskShape, task_stream
from tasks.lasium import generated_stream
from tasks.seeding import derive_seed

_CHUNK = 50  # tasks drawn at once


def task_statistics(support, query):
    """Per task of (T, N, K, ...) support and (T, N, Q, ...) query images: prototype
    accuracy, mean query-to-own-prototype distance, mean distance between prototypes."""
    t, n, k = support.shape[:3]
    q = query.shape[2]
    prototypes = support.reshape(t, n, k, -1).mean(2)
    points = query.reshape(t, n * q, -1)

    def distances(a, b):  # (t, i, D), (t, j, D) -> (t, i, j), without a (t, i, j, D) array
        squared = ((a ** 2).sum(-1)[:, :, None] + (b ** 2).sum(-1)[:, None]
                   - 2 * np.einsum("tid,tjd->tij", a, b))
        return np.sqrt(np.maximum(squared, 0))

    to_prototypes = distances(points, prototypes)
    truth = np.repeat(np.arange(n), q)
    accuracy = (to_prototypes.argmin(-1) == truth).mean(1)
    own = to_prototypes[:, np.arange(n * q), truth].mean(1)
    between = distances(prototypes, prototypes).sum((1, 2)) / (n * (n - 1))
    return accuracy, own, between


def summarize(batches):
    """Difficulty of the tasks in `batches`, an iterable of (support, query) chunks."""
    accuracy, own, between = (np.concatenate(parts) for parts in
                              zip(*(task_statistics(np.asarray(s), np.asarray(q))
                                    for s, q in batches)))
    mean, ci = mean_ci95(accuracy)
    return {"prototype_accuracy": mean, "ci95": ci, "spread": float(own.mean() / between.mean()),
            "tasks": len(accuracy)}


def real_batches(images, labels, shape, seed, count, name):
    sampler = TaskSampler(images, labels, shape, name)
    return task_stream(sampler, seed, count=count).batch(_CHUNK).as_numpy_iterator()


def generated_batches(c, gan, shape, image_shape, seed, count):
    stream = generated_stream(builders.generated_tasks(c, gan, shape, image_shape), seed, _CHUNK)
    return stream.take(-(-count // _CHUNK)).as_numpy_iterator()


def measure(c, database, values, num_tasks):
    """The report for run configuration `c`, `num_tasks` tasks per source (see the
    module's docstring)."""
    shape = TaskShape(c.n_way, c.k_shot, c.train_query)
    train, seed = database.train, derive_seed(c.seed, "task_difficulty")
    labeled_mask = builders.labeled_images(c, train)
    report = {"real": {"test classes": summarize(real_batches(
        database.test.images, database.test.labels, shape, seed, num_tasks, "test"))}}
    pool = label_budget.labeled_pool(train.labels, labeled_mask, shape.per_class)
    if pool.num_classes >= c.n_way:
        report["real"]["labeled training classes"] = summarize(real_batches(
            train.images[pool.indices], train.labels[pool.indices], shape, seed, num_tasks,
            "labeled training tasks"))
    gan = builders.train_or_load_run_gan(c, train, labeled_mask)
    parameter = SAMPLER_PARAMETER[c.lasium]
    report.update(sampler=c.lasium, parameter=parameter, gan_epochs=c.gan_epochs,
                  query_augmentation=c.query_augmentation, generated=[])
    for value in values:
        sampler_config = dataclasses.replace(c, **{parameter: value})
        report["generated"].append({"value": value, **summarize(generated_batches(
            sampler_config, gan, shape, train.images.shape[1:], seed, num_tasks))})
    return report
