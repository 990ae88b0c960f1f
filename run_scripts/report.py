"""Markdown tables from results JSONs: test accuracy, and validation accuracy by step.

    python -m run_scripts.report results/omniglot/*.json [--readme=README.md]

With --readme, the tables replace the block between `<!-- report -->` and
`<!-- /report -->` (or the --block of that name) in that file, so the numbers there
always come from this script.
With --plot, it also draws validation accuracy against meta-iterations (with 95% bands)
and each run's test accuracy, to a PNG.
"""
import json
import os
import re

from absl import flags

from infra.atomic_io import write_figure_atomic
from infra.entry_point import run_main
from meta.config import GENERATED_METHODS, SAMPLER_PARAMETER
from meta.readme_blocks import define_readme_flags, replace_block
from meta.results import check_results

FLAGS = flags.FLAGS


def load(path):
    with open(path) as f:
        results = json.load(f)
    check_results(results)  # refuses a JSON without run provenance
    return results


def shift_name(c):
    """"integer ±5 px" or "bilinear ±10%": how a run's query images were shifted (runs
    from before --query_shift existed shifted bilinearly by up to 10%)."""
    kind, m = c.get("query_shift", "bilinear"), c.get("query_shift_max", 0.1)
    return f"{kind} ±{m:g} px" if m >= 1 else f"{kind} ±{100 * m:g}%"


def sampler_name(c):
    """"LASIUM-N σ 0.5, anchors ε 246.094, anchor support, 10 epochs, query shifts integer
    ±5 px" from a run's config."""
    field, symbol = SAMPLER_PARAMETER[c["lasium"]], "σ" if c["lasium"] == "n" else "α"
    epsilon, epochs = c.get("lasium_anchor_epsilon", 0), c.get("gan_epochs")
    parameter = f" {symbol} {c[field]:g}" if field in c else ""
    anchors = f", anchors ε {epsilon:g}" if epsilon else ""
    anchors += ", anchor support" if c.get("lasium_anchor_support") else ""
    precision = " bfloat16" if c.get("gan_precision", "float32") != "float32" else ""
    pairs = (", mode-seeking pairs within batch"
             if c.get("gan_diversity_pairs") == "within_batch" else "")
    shifts = f", query shifts {shift_name(c)}" if c.get("query_augmentation") else ""
    return (f"LASIUM-{c['lasium'].upper()}{parameter}{anchors}, "
            f"{epochs}{precision} epoch{'s' * (epochs != 1)}{pairs}{shifts}")


def method_name(method, c):
    """"lasium", or "maml, ProtoNets trained 20-way" for another learner (runs from
    before --learner existed used MAML)."""
    if c.get("learner", "maml") == "maml":
        return method
    ways = c.get("train_n_way", c.get("n_way"))
    trained = f" trained {ways}-way" if ways != c.get("n_way") else ""
    return f"{method}, ProtoNets{trained}"


def test_table(runs):
    columns = ["run", "method", "labels", "GAN", "seed", "test accuracy (95% CI)", "tasks",
               "iterations", "wall time", "peak memory"]
    lines = ["| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
    for path, r in runs:
        labels = f"{r['label_scheme']} {100 * r['label_fraction']:g}%"
        if r["config"].get("labeled_query_augmentation"):
            labels += f", query shifts {shift_name(r['config'])}"
        gan = sampler_name(r["config"]) if r["method"] in GENERATED_METHODS else "-"
        # Runs made before the trainer recorded its peak memory have none.
        memory = f"{r['peak_memory_mb'] / 1024:.1f} GB" if "peak_memory_mb" in r else "-"
        lines.append(
            f"| `{path}` | {method_name(r['method'], r['config'])} | {labels} | {gan} | {r['seed']} | "
            f"{100 * r['test_accuracy']:.2f}% ± {100 * r['test_ci95']:.2f} | {r['num_test_tasks']} | "
            f"{r['iterations']} | {r['wall_seconds'] / 60:.1f} min | {memory} |")
    return lines


def history_table(path, r):
    lines = [f"Validation accuracy by meta-iteration, `{path}` "
             f"({r['config']['num_val_tasks']} fixed validation tasks):", "",
             "| iteration | validation accuracy (95% CI) |", "| --- | --- |"]
    lines += [f"| {h['step']} | {100 * h['val_accuracy']:.2f}% ± {100 * h['val_ci95']:.2f} |"
              for h in r.get("val_history", [])]
    return lines


def report(paths):
    runs = [(p, load(p)) for p in paths]
    lines = test_table(runs)
    for path, r in runs:
        lines += [""] + history_table(path, r)
    lines += ["", "Commands: " + "; ".join(f"`{r['command']}` (commit {r['git_commit'][:10]})"
                                          for _, r in runs)]
    return "\n".join(lines)


def plot(paths, output):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 4.5))
    for path in paths:
        r = load(path)
        steps = [h["step"] for h in r["val_history"]]
        acc = [100 * h["val_accuracy"] for h in r["val_history"]]
        ci = [100 * h["val_ci95"] for h in r["val_history"]]
        label = os.path.splitext(os.path.basename(path))[0]
        line, = ax.plot(steps, acc, label=label)
        ax.fill_between(steps, [a - c for a, c in zip(acc, ci)], [a + c for a, c in zip(acc, ci)],
                        color=line.get_color(), alpha=0.2)
        # The test point sits at the step of the checkpoint that was tested.
        tested = re.search(r"ckpt-(\d+)$", r.get("checkpoint", ""))
        ax.errorbar([int(tested.group(1)) if tested else r["iterations"]],
                    [100 * r["test_accuracy"]], [100 * r["test_ci95"]],
                    fmt="o", color=line.get_color())
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel(f"{r['n_way']}-way {r['k_shot']}-shot accuracy (%)")
    ax.grid(alpha=0.3)
    # Beside the axes, not on them: a legend of many runs would hide the curves.
    ax.legend(title="line: validation, dot: test", fontsize=8, title_fontsize=8,
              loc="center left", bbox_to_anchor=(1.01, 0.5))
    fig.tight_layout()
    write_figure_atomic(output, fig)


def main(argv):
    text = report(argv[1:])
    if FLAGS.plot:
        plot(argv[1:], FLAGS.plot)
    print(text)
    if FLAGS.readme:
        replace_block(FLAGS.readme, FLAGS.block, text)


if __name__ == "__main__":
    # Defined here, not on import, so that tests can import this beside other scripts.
    define_readme_flags("report")
    flags.DEFINE_string("plot", None, "Write a PNG of validation accuracy by meta-iteration here.")
    run_main(main)
