"""Benchmark: TensorFlow's oneDNN CPU kernels on vs off, for MAML, the generated-task
pipeline and a GAN step.

    python -m run_scripts.bench_onednn [--dataset=omniglot] [--rounds=3] [--output=FILE.json]

TensorFlow reads TF_ENABLE_ONEDNN_OPTS once, when it loads, so each round runs
`run_scripts.bench_maml` in two fresh processes, oneDNN off then on. Reported per setting:
the median over rounds of each timing; and the on/off ratio of the medians (below 1:
oneDNN is faster). Rounds alternate the settings so that a noisy neighbour hits both.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile

from absl import app, flags, logging

from infra.atomic_io import write_json_atomic
from infra.cpu import cpu_model
from infra.entry_point import run_main
from meta.process import ONEDNN
from meta.results import command_line, git_commit

flags.DEFINE_string("dataset", "omniglot", "Data set whose networks are timed.")
flags.DEFINE_integer("rounds", 3, "Rounds of (off, on) runs; medians over them.")
flags.DEFINE_integer("repeats", 1, "bench_maml --repeats within one run.")
flags.DEFINE_integer("steps", 10, "bench_maml --steps within one run.")
flags.DEFINE_string("output", None, "Also write the numbers to this JSON file.")
FLAGS = flags.FLAGS

TIMINGS = ("second_order_ms", "first_order_ms", "generated_pipeline_ms_per_meta_batch",
           "gan_step_ms")


def bench_once(onednn: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        output = os.path.join(tmp, "bench.json")
        command = [sys.executable, "-m", "run_scripts.bench_maml", f"--dataset={FLAGS.dataset}",
                   f"--repeats={FLAGS.repeats}", f"--steps={FLAGS.steps}", f"--output={output}"]
        subprocess.run(command, env=dict(os.environ, **{ONEDNN: onednn}), check=True,
                       stdout=subprocess.DEVNULL)
        with open(output) as f:
            return json.load(f)


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unknown arguments: {argv[1:]}")
    runs = {"0": [], "1": []}
    for r in range(FLAGS.rounds):
        for onednn in runs:
            runs[onednn].append(bench_once(onednn))
            logging.info("round %d/%d, oneDNN %s: %s", r + 1, FLAGS.rounds, onednn,
                         {k: round(runs[onednn][-1][k], 1) for k in TIMINGS})
    medians = {onednn: {k: statistics.median(run[k] for run in done) for k in TIMINGS}
               for onednn, done in runs.items()}
    results = {
        "command": command_line(),
        "git_commit": git_commit(), "cpu": cpu_model(), "dataset": FLAGS.dataset,
        "rounds": FLAGS.rounds, "repeats": FLAGS.repeats, "steps": FLAGS.steps,
        "onednn_off": {k: [run[k] for run in runs["0"]] for k in TIMINGS},
        "onednn_on": {k: [run[k] for run in runs["1"]] for k in TIMINGS},
        "median_off": medians["0"], "median_on": medians["1"],
        "on_over_off": {k: medians["1"][k] / medians["0"][k] for k in TIMINGS},
    }
    print(json.dumps(results, indent=2))
    if FLAGS.output:
        write_json_atomic(FLAGS.output, results)


if __name__ == "__main__":
    run_main(main)
