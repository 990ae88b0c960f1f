"""LASIUM alone against its GAN's training epochs, beside the original LASIUM's curve.

    python -m run_scripts.gan_epoch_curve results/omniglot/lasium_recipe/lasium-n_gan*.json \\
        --readme=results/README.md --plot=results/omniglot/lasium_gan_epoch_curve.png

One row per GAN epoch count, one column per series (number of meta-iterations, and how
the GAN trained: its precision and mode-seeking pairs), each cell the test accuracy (95%
CI over the test tasks) of one run, and the original's accuracy at that epoch count. A
row's "gap" is ours minus the original's at the original's meta-iterations (1,000, float32
GAN with LASIUM's pairs), where both exist.
"""
import collections

from absl import app, flags

from infra.atomic_io import write_figure_atomic
from infra.entry_point import run_main
from meta.readme_blocks import define_readme_flags, replace_block
from run_scripts.report import load, sampler_name

FLAGS = flags.FLAGS

# The original LASIUM repository's own measurements of LASIUM-N (Omniglot 5-way 1-shot,
# 1,000 test tasks, about 1,000 meta-iterations) against the GAN's training epochs: the
# reference this project is held to (quoted from issue 26, not measured here).
ORIGINAL = {0: 51.95, 10: 67.50, 20: 71.26, 30: 77.34, 40: 77.67, 50: 77.35, 100: 78.14,
            150: 79.99, 200: 78.21, 300: 77.94, 400: 80.51, 500: 76.49}
ORIGINAL_ITERATIONS = 1000


def series(r):
    """The curve a run is a point of: its meta-iterations, its GAN's precision and where
    the GAN's mode-seeking pairs came from (runs before that setting: a second batch)."""
    c = r["config"]
    return (r["iterations"], c.get("gan_precision", "float32"),
            c.get("gan_diversity_pairs", "second_batch"))


def series_name(key, who="here"):
    iterations, precision, pairs = key
    return (f"{who}, {iterations} it." + (", bfloat16 GAN" if precision != "float32" else "")
            + (", pairs within batch" if pairs == "within_batch" else ""))


def series_order(key):
    """The original's GAN first (float32, second batch), then by meta-iterations."""
    return key[1] != "float32", key[2] != "second_batch", key[0]


def table(runs):
    """Markdown rows: GAN epochs x series, with the original's column."""
    cells = collections.defaultdict(dict)
    for r in runs:
        epochs, key = r["config"]["gan_epochs"], series(r)
        if key in cells[epochs]:
            raise ValueError(
                f"Two runs for {epochs} GAN epochs and {key[0]} iterations ({key[1]}, {key[2]}): "
                f"`{cells[epochs][key]['command']}` and `{r['command']}`; a curve "
                "has one run per point: give one of them.")
        cells[epochs][key] = r
    keys = sorted({series(r) for r in runs}, key=series_order)
    reference = (ORIGINAL_ITERATIONS, "float32", "second_batch")
    header = (["GAN epochs", f"original LASIUM-N ({ORIGINAL_ITERATIONS} it.)"]
              + [series_name(k) for k in keys] + [f"gap at {ORIGINAL_ITERATIONS} it."])
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for epochs in sorted(cells):
        row = cells[epochs]
        original = ORIGINAL.get(epochs)
        ours = [f"{100 * row[k]['test_accuracy']:.2f}% ± {100 * row[k]['test_ci95']:.2f}"
                if k in row else "-" for k in keys]
        gap = (f"{100 * row[reference]['test_accuracy'] - original:+.2f}"
               if original is not None and reference in row else "-")
        lines.append(f"| {epochs} | {f'{original:.2f}%' if original else '-'} | "
                     + " | ".join(ours) + f" | {gap} |")
    # The series name the GAN's epochs, precision and pairs; the rest is the sampler's.
    samplers = sorted({sampler_name({**r["config"], "gan_epochs": "E", "gan_precision": "float32",
                                     "gan_diversity_pairs": "second_batch"}) for r in runs})
    lines += ["", "Runs: " + "; ".join(samplers) + ", seed(s) "
              + ", ".join(sorted({str(r["seed"]) for r in runs})) + "; commands: "
              + "; ".join(sorted({f"`{r['command']}` (commit {short_commit(r)})" for r in runs}))]
    return "\n".join(lines)


def short_commit(r):
    """The commit a run recorded, short, still marked when the tree had local changes."""
    commit = r["git_commit"]
    return commit[:10] + ("-dirty" if commit.endswith("-dirty") else "")


def plot(runs, output):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    epochs = sorted(ORIGINAL)
    ax.plot(epochs, [ORIGINAL[e] for e in epochs], "k--o", ms=4,
            label=f"original LASIUM-N ({ORIGINAL_ITERATIONS} it.)")
    by_series = collections.defaultdict(list)
    for r in runs:
        by_series[series(r)].append(r)
    for key, group in sorted(by_series.items(), key=lambda kv: series_order(kv[0])):
        group.sort(key=lambda r: r["config"]["gan_epochs"])
        ax.errorbar([r["config"]["gan_epochs"] for r in group],
                    [100 * r["test_accuracy"] for r in group],
                    [100 * r["test_ci95"] for r in group], fmt="-o", capsize=3,
                    label=series_name(key, "this project"))
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("GAN training epochs")
    ax.set_ylabel("Omniglot 5-way 1-shot test accuracy (%)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    write_figure_atomic(output, fig)


def main(argv):
    runs = [load(p) for p in argv[1:]]
    if not runs:
        raise app.UsageError("Give the results JSONs of LASIUM runs.")
    if any(r["method"] != "lasium" for r in runs):
        raise app.UsageError("The curve is of LASIUM alone: give only --method=lasium runs.")
    text = table(runs)
    print(text)
    if FLAGS.plot:
        plot(runs, FLAGS.plot)
    if FLAGS.readme:
        replace_block(FLAGS.readme, FLAGS.block, text)


if __name__ == "__main__":
    define_readme_flags("gan_epoch_curve")
    flags.DEFINE_string("plot", None, "Also draw the curve to this PNG.")
    run_main(main)
