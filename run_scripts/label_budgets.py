"""What each label budget leaves for labeled tasks, before any training.

    python -m run_scripts.label_budgets [--dataset=omniglot] [--seed=0] [--k_shot=1] \\
        [--train_query=5] [--schemes=...] [--fractions=...] [--readme=README.md]

For every scheme and fraction: the labeled training images, the classes with at least
K + query of them (only those can form a training task) and those classes' images. Where
fewer than N classes remain, labeled-only MAML and SSML's labeled stream have no task to
draw and stop at the start with an error.
"""
import dataclasses
import sys

from absl import app, flags

from infra.entry_point import run_main
from meta import config as config_lib
from meta import builders
from meta.readme_blocks import define_readme_flags, replace_block
from meta.results import command_line
from tasks import label_budget

FLAGS = flags.FLAGS


def budget_rows(c, train, schemes, fractions):
    """(scheme, fraction, labeled images, usable classes, their images) per budget."""
    per_class = c.k_shot + c.train_query
    rows = []
    for scheme in schemes:
        for fraction in fractions:
            budget = dataclasses.replace(c, label_scheme=scheme, label_fraction=fraction)
            mask = builders.labeled_images(budget, train)
            pool = label_budget.labeled_pool(train.labels, mask, per_class)
            rows.append((scheme, fraction, pool.num_labeled, pool.num_classes, len(pool.indices)))
    return rows


def markdown_table(rows, n_way, per_class):
    lines = [f"| scheme | labels | labeled images | classes with >= {per_class} labeled "
             "| their images | labeled tasks |", "| --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {scheme} | {100 * fraction:g}% | {images} | {classes} | {usable} | "
              f"{'yes' if classes >= n_way else 'none'} |"
              for scheme, fraction, images, classes, usable in rows]
    return "\n".join(lines)


def define_flags():
    """Defined when run, not on import, so that tests can import this beside other scripts."""
    config_lib.define_flags()
    flags.DEFINE_list("schemes", list(label_budget.SCHEMES), "Label schemes.")
    flags.DEFINE_list("fractions", ["0.01", "0.02", "0.05", "0.1", "0.2", "0.3", "0.5"],
                      "Label fractions.")
    define_readme_flags("label_budgets")


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unknown arguments: {argv[1:]} (flags look like --name=value).")
    c = config_lib.Config.from_flags()
    rows = budget_rows(c, builders.load_database(c).train, FLAGS.schemes,
                       [float(f) for f in FLAGS.fractions])
    table = markdown_table(rows, c.n_way, c.k_shot + c.train_query)
    print(table)
    if FLAGS.readme:
        command = command_line([a for a in sys.argv[1:] if not a.startswith("--readme")])
        replace_block(FLAGS.readme, FLAGS.block, f"{table}\n\n`{command}`")


if __name__ == "__main__":
    define_flags()
    run_main(main)
