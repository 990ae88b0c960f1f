"""How hard are the tasks MAML trains on? Tasks whose classes a nearest-prototype rule
already tells apart in raw pixels teach no feature; real tasks are far from that.

    python -m run_scripts.task_difficulty --method=lasium --lasium=ro --values=0.2,0.4,0.6 \\
        [any flag of run_scripts.train] [--num_tasks=400] [--output=FILE.json]
    python -m run_scripts.task_difficulty --from_json=FILE.json --readme=README.md --block=NAME

For the run the flags describe (data set, seed, label budget, GAN: loaded from the cache,
or trained), it draws `--num_tasks` tasks of the training shape (N-way, K-shot,
--train_query) from each source and reports:

* prototype accuracy: the share of query images whose nearest support mean, in pixels,
  is their own class's (chance is 1/N), with its 95% interval over tasks;
* spread: the mean distance from a query image to its own class's support mean, over the
  mean distance between support means (near 0: each class is copies of one image).

Sources: generated tasks with the LASIUM sampler's parameter (--lasium_sigma,
--lasium_ro_alpha or --lasium_oc_alpha) set to each of `--values`; real tasks of the test
classes; and real tasks of the labeled training classes where the budget keeps enough.
"""
import dataclasses
import json

import numpy as np
from absl import app, flags

from infra.atomic_io import write_json_atomic
from meta import builders
from meta import config as config_lib
from meta.process import restart_with_onednn
from meta.readme_blocks import define_readme_flags, replace_block
from meta.results import command_line, git_commit
from meta.statistics import mean_ci95
from tasks import label_budget
from tasks.labeled import TaskSampler, TaskShape, task_stream
from tasks.lasium import generated_stream
from tasks.seeding import derive_seed

_CHUNK = 50  # tasks drawn at once

FLAGS = flags.FLAGS


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
    """The report for run configuration `c` (see the module's docstring)."""
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
    parameter = config_lib.SAMPLER_PARAMETER[c.lasium]
    report.update(sampler=c.lasium, parameter=parameter, gan_epochs=c.gan_epochs,
                  query_augmentation=c.query_augmentation, generated=[])
    for value in values:
        sampler_config = dataclasses.replace(c, **{parameter: value})
        report["generated"].append({"value": value, **summarize(generated_batches(
            sampler_config, gan, shape, train.images.shape[1:], seed, num_tasks))})
    return report


def markdown_table(report):
    rows = list(report["real"].items())
    shifts = ", query shifts" if report.get("query_augmentation") else ""
    gan = f"{report['gan_epochs']}-epoch GAN{shifts}"
    rows += [(f"generated ({gan}, {report['parameter']}={g['value']:g})", g)
             for g in report["generated"]]
    lines = ["| tasks | prototype accuracy (95% CI) | spread |", "| --- | --- | --- |"]
    lines += [f"| {name} | {100 * r['prototype_accuracy']:.1f}% ± {100 * r['ci95']:.1f} | "
              f"{r['spread']:.3f} |" for name, r in rows]
    return "\n".join(lines)


def define_flags():
    """Defined when run, not on import, so that tests can import this beside other scripts."""
    config_lib.define_flags()
    flags.DEFINE_list("values", None, "Values of the sampler's parameter (default: its flag's).")
    flags.DEFINE_integer("num_tasks", 400, "Tasks drawn from each source.")
    flags.DEFINE_string("output", None, "Also write the numbers to this JSON file.")
    flags.DEFINE_string("from_json", None,
                        "Show the table of an earlier --output, measuring nothing.")
    define_readme_flags("task_difficulty")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unknown arguments: {argv[1:]} (flags look like --name=value).")
    if FLAGS.from_json:
        with open(FLAGS.from_json) as f:
            report = json.load(f)
    else:
        restart_with_onednn("run_scripts.task_difficulty")
        c = config_lib.Config.from_flags()
        default = getattr(c, config_lib.SAMPLER_PARAMETER[c.lasium])
        values = [float(v) for v in FLAGS.values or [default]]
        report = measure(c, builders.load_database(c), values, FLAGS.num_tasks)
        report.update(command=command_line(),
                      git_commit=git_commit(), dataset=c.dataset, n_way=c.n_way,
                      k_shot=c.k_shot, train_query=c.train_query)
        if FLAGS.output:
            write_json_atomic(FLAGS.output, report)
    table = markdown_table(report)
    print(table)
    if FLAGS.readme:
        replace_block(FLAGS.readme, FLAGS.block, f"{table}\n\n`{report['command']}`")


if __name__ == "__main__":
    define_flags()
    app.run(main)
