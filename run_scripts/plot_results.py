"""The label-fraction study from results JSONs alone: a table and a plot per label scheme.

    python -m run_scripts.plot_results results/omniglot/sweep/*.json \\
        --output=results/omniglot/sweep_summary

writes <output>.md (markdown table), <output>.csv and <output>.png (test accuracy against
label fraction, one line per method with its 95% band, a panel per scheme). A cell's value
is the mean over its seeds; its band is the 95% CI of that mean from the test tasks
(sqrt(sum ci_i^2) / n, seeds independent); the seeds' own values are listed beside it.
Unsupervised LASIUM (fraction 0) starts the SSML line; fraction 1 keeps all labels under
every scheme, so those runs end every scheme's lines.
"""
import collections
import csv
import io
import json
import math

from absl import app, flags

from meta.evaluation import check_results, replace_block, write_figure_atomic, write_text_atomic

FLAGS = flags.FLAGS

NAMES = {"labeled_only": "labeled-only MAML", "ssml": "SSML", "ssml_ssg": "SSML-SSG",
         "maml": "MAML (supervised budget)"}


def load(paths):
    runs = []
    for path in paths:
        with open(path) as f:
            r = json.load(f)
        try:
            check_results(r)
        except ValueError as e:
            raise ValueError(f"{path}: {e}; only JSONs written by a logged run are plotted.")
        runs.append(r)
    return runs


def cells(runs):
    """{(scheme, method, fraction): [runs over seeds]}, LASIUM as SSML at fraction 0, and
    all-label runs under every scheme."""
    schemes = sorted({r["label_scheme"] for r in runs if 0 < r["label_fraction"] < 1}) or \
        sorted({r["label_scheme"] for r in runs})
    out = collections.defaultdict(list)
    for r in runs:
        method = "ssml" if r["method"] == "lasium" else r["method"]
        for scheme in (schemes if r["label_fraction"] in (0, 1) else [r["label_scheme"]]):
            out[scheme, method, r["label_fraction"]].append(r)
    return out


def summarize(group):
    n = len(group)
    mean = sum(r["test_accuracy"] for r in group) / n
    ci = math.sqrt(sum(r["test_ci95"] ** 2 for r in group)) / n
    return mean, ci


def rows(runs):
    for (scheme, method, fraction), group in sorted(cells(runs).items(),
                                                    key=lambda item: (item[0][0], item[0][2], item[0][1])):
        group = sorted(group, key=lambda r: r["seed"])
        mean, ci = summarize(group)
        yield dict(scheme=scheme, fraction=fraction,
                   method="LASIUM (no labels)" if fraction == 0 else NAMES.get(method, method),
                   seeds=len(group), accuracy=100 * mean, ci95=100 * ci,
                   per_seed=" ".join(f"{100 * r['test_accuracy']:.2f}" for r in group),
                   iterations=sorted({r["iterations"] for r in group}),
                   key=method)


def markdown(table):
    lines = ["| scheme | labels | method | seeds | test accuracy (95% CI) | per seed | iterations |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['scheme']} | {100 * r['fraction']:g}% | {r['method']} | {r['seeds']} | "
              f"{r['accuracy']:.2f}% ± {r['ci95']:.2f} | {r['per_seed']} | "
              f"{'/'.join(map(str, r['iterations']))} |" for r in table]
    return "\n".join(lines) + "\n"


def to_csv(table):
    out = io.StringIO()
    fields = ["scheme", "fraction", "method", "seeds", "accuracy", "ci95", "per_seed"]
    writer = csv.DictWriter(out, fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()


def plot(table, path):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    schemes = sorted({r["scheme"] for r in table})
    fig, axes = plt.subplots(1, len(schemes), figsize=(5 * len(schemes), 4), squeeze=False,
                             sharey=True)
    for ax, scheme in zip(axes[0], schemes):
        for key in sorted({r["key"] for r in table if r["scheme"] == scheme}):
            line = [r for r in table if r["scheme"] == scheme and r["key"] == key]
            x = [r["fraction"] for r in line]
            y = [r["accuracy"] for r in line]
            ci = [r["ci95"] for r in line]
            drawn, = ax.plot(x, y, "o-", label=NAMES.get(key, key))
            ax.fill_between(x, [a - c for a, c in zip(y, ci)], [a + c for a, c in zip(y, ci)],
                            color=drawn.get_color(), alpha=0.2)
        ax.set_xscale("symlog", linthresh=0.01)
        ax.set_xlim(left=0)
        ax.set_title(f"label scheme: {scheme}")
        ax.set_xlabel("label fraction (0 = LASIUM, no labels)")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy (%)")
    axes[0][0].legend()
    fig.tight_layout()
    write_figure_atomic(path, fig)


def main(argv):
    if len(argv) < 2:
        raise app.UsageError("Pass the results JSONs to plot.")
    table = list(rows(load(argv[1:])))
    write_text_atomic(FLAGS.output + ".md", markdown(table))
    write_text_atomic(FLAGS.output + ".csv", to_csv(table))
    plot(table, FLAGS.output + ".png")
    if FLAGS.readme:
        replace_block(FLAGS.readme, "sweep", markdown(table))
    print(markdown(table))
    print(f"Wrote {FLAGS.output}.md, .csv and .png")


if __name__ == "__main__":
    # Defined here, not on import, so that tests can import this beside run_scripts.report.
    flags.DEFINE_string("output", "results/summary", "Path prefix of the .md, .csv and .png.")
    flags.DEFINE_string("readme", None, "Also put the table in the <!-- sweep --> block of this file.")
    app.run(main)
