"""How hard are the tasks MAML trains on? The measurement of meta/task_difficulty.py
(prototype accuracy and spread of real and generated tasks), as a table.

    python -m run_scripts.task_difficulty --method=lasium --lasium=ro --values=0.2,0.4,0.6 \\
        [any flag of run_scripts.train] [--num_tasks=400] [--output=FILE.json]
    python -m run_scripts.task_difficulty --from_json=FILE.json --readme=README.md --block=NAME

For the run the flags describe, it draws `--num_tasks` tasks from each source: generated
tasks with the LASIUM sampler's parameter set to each of `--values`, and real ones.
"""
import json

from absl import app, flags

from infra.atomic_io import write_json_atomic
from infra.entry_point import run_main
from meta import builders
from meta import config as config_lib
from meta.process import restart_with_onednn
from meta.readme_blocks import define_readme_flags, replace_block
from meta.results import command_line, git_commit
from meta.task_difficulty import measure

FLAGS = flags.FLAGS


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
        report.update(command=command_line(), git_commit=git_commit(), dataset=c.dataset,
                      n_way=c.n_way, k_shot=c.k_shot, train_query=c.train_query)
        if FLAGS.output:
            write_json_atomic(FLAGS.output, report)
    table = markdown_table(report)
    print(table)
    if FLAGS.readme:
        replace_block(FLAGS.readme, FLAGS.block, f"{table}\n\n`{report['command']}`")


if __name__ == "__main__":
    define_flags()
    run_main(main)
