"""The label-fraction study from results JSONs alone: a table and a plot per label scheme.

    python -m run_scripts.plot_results results/omniglot/sweep/*.json \\
        --output=results/omniglot/sweep_summary

writes <output>.md (markdown table), <output>.csv and <output>.png (per scheme: test
accuracy against label fraction, one line per method with its 95% band, and below it each
method's points over labeled-only MAML with the 95% interval of that difference). A cell's value
is the mean over its seeds; its band is the 95% CI of that mean from the test tasks
(sqrt(sum ci_i^2) / n, seeds independent); the seeds' own values are listed beside it.
SSML runs with different mixing settings (--mix, --labeled_share...) are different lines.
Unsupervised LASIUM (fraction 0) is a horizontal line: the level that labels must beat.
Fraction 1 keeps all labels under every scheme, so those runs end every scheme's lines.
"""
import collections
import csv
import io
import json
import math
import textwrap

from absl import app, flags

from meta.config import MIXING_METHODS, mix_name
from meta.evaluation import (check_results, define_readme_flags, replace_block,
                             write_figure_atomic, write_text_atomic)

FLAGS = flags.FLAGS

NAMES = {"lasium": "LASIUM (no labels)", "labeled_only": "labeled-only MAML", "ssml": "SSML",
         "ssml_ssg": "SSML-SSG", "maml": "MAML (supervised budget)"}


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


SHIFTS = (("labeled_query_augmentation", "labeled"), ("query_augmentation", "generated"))


def line_key(r):
    """The line a run belongs to: its method and, for methods that mix task streams, how
    they were mixed (a run's JSON from before --mix existed gives just the method), and
    which training queries were shifted: shifted runs never pool with unshifted ones."""
    c = r.get("config", {})
    key = r["method"]
    if key in MIXING_METHODS and "mix" in c:
        key += f"|{mix_name(c)}"
    shifted = [name for flag, name in SHIFTS if c.get(flag)]
    return key + (f"|shifted {' and '.join(shifted)} queries" if shifted else "")


def baseline_key(r):
    """Labeled-only MAML as this run's labeled tasks were: with or without shifts."""
    return line_key(dict(method="labeled_only", config=dict(
        labeled_query_augmentation=r.get("config", {}).get("labeled_query_augmentation"))))


def line_name(key):
    method, *settings = key.split("|")
    name = NAMES.get(method, method)
    return f"{name} ({', '.join(settings)})" if settings else name


def cells(runs):
    """{(scheme, line, fraction): [runs over seeds]}, with LASIUM and all-label runs under
    every scheme."""
    schemes = sorted({r["label_scheme"] for r in runs if 0 < r["label_fraction"] < 1}) or \
        sorted({r["label_scheme"] for r in runs})
    out = collections.defaultdict(list)
    for r in runs:
        for scheme in (schemes if r["label_fraction"] in (0, 1) else [r["label_scheme"]]):
            out[scheme, line_key(r), r["label_fraction"]].append(r)
    return out


def mean_and_ci(pairs):
    """Mean of independent (value, 95% CI) pairs, and the 95% CI of that mean."""
    n = len(pairs)
    return sum(v for v, _ in pairs) / n, math.sqrt(sum(c ** 2 for _, c in pairs)) / n


def rows(runs):
    def order(cell):  # by scheme, fraction, then method in the order of NAMES
        (scheme, key, fraction), _ = cell
        method = key.partition("|")[0]
        return scheme, fraction, list(NAMES).index(method) if method in NAMES else len(NAMES), key

    for (scheme, key, fraction), group in sorted(cells(runs).items(), key=order):
        group = sorted(group, key=lambda r: r["seed"])
        by_seed = {r["seed"]: (100 * r["test_accuracy"], 100 * r["test_ci95"]) for r in group}
        accuracy, ci = mean_and_ci(list(by_seed.values()))
        yield dict(scheme=scheme, fraction=fraction, method=line_name(key),
                   seeds=len(group), accuracy=accuracy, ci95=ci,
                   per_seed=" ".join(f"{a:.2f}" for a, _ in by_seed.values()),
                   iterations=sorted({r["iterations"] for r in group}),
                   by_seed=by_seed, key=key, baseline=baseline_key(group[0]))


def percent(fraction):
    """A label fraction as the table and the plot's ticks both write it: 0.005 -> '0.5%'."""
    return f"{100 * fraction:g}%"


def markdown(table):
    lines = ["| scheme | labels | method | seeds | test accuracy (95% CI) | per seed | iterations |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['scheme']} | {percent(r['fraction'])} | {r['method']} | {r['seeds']} | "
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


def gains(line, baseline):
    """(fractions, points over the baseline, 95% CI of that difference) where both exist,
    over the seeds both have: a seed fixes the data split and the labeled subset, so only
    runs of the same seed are compared."""
    base = {r["fraction"]: r["by_seed"] for r in baseline}
    out = []
    for r in line:
        theirs = base.get(r["fraction"], {})
        seeds = sorted(set(r["by_seed"]) & set(theirs))
        if seeds:
            out.append((r["fraction"], *mean_and_ci(
                [(r["by_seed"][s][0] - theirs[s][0], math.hypot(r["by_seed"][s][1], theirs[s][1]))
                 for s in seeds])))
    return tuple(list(v) for v in zip(*out)) if out else ([], [], [])


def plot(table, path):
    """Per scheme: accuracy against label fraction, and below it each method's gain over
    labeled-only MAML (the question SSML must answer: do generated tasks add anything?),
    with the labeled queries shifted as that method's were."""
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import NullFormatter

    schemes = sorted({r["scheme"] for r in table})
    fig, axes = plt.subplots(2, len(schemes), figsize=(5 * len(schemes), 7), squeeze=False,
                             sharex=True, sharey="row", height_ratios=[3, 2])
    for top, bottom, scheme in zip(axes[0], axes[1], schemes):
        lines = {}
        for r in table:
            if r["scheme"] == scheme:
                lines.setdefault(r["key"], []).append(r)
        for (key, line), marker in zip(lines.items(), "osD^vP*X"):  # markers: overlaps show
            x, y, ci = ([r[f] for r in line] for f in ("fraction", "accuracy", "ci95"))
            if key == "lasium":  # no labels: a level across the panel
                top.axhline(y[0], color="gray", linestyle=":", label=line_name(key))
                top.axhspan(y[0] - ci[0], y[0] + ci[0], color="gray", alpha=0.15)
                continue
            drawn, = top.plot(x, y, marker + "-", label=textwrap.fill(line_name(key), 40))
            top.fill_between(x, [a - c for a, c in zip(y, ci)], [a + c for a, c in zip(y, ci)],
                             color=drawn.get_color(), alpha=0.2)
            baseline = line[0]["baseline"]
            if key != baseline and baseline in lines:
                x, y, ci = gains(line, lines[baseline])
                bottom.errorbar(x, y, yerr=ci, fmt=marker + "-", color=drawn.get_color(),
                                capsize=3)
        bottom.axhline(0, color="black", linewidth=0.8)  # labeled-only itself
        top.set_xscale("log")
        # Ticks at the measured fractions, as percentages: log-axis minor labels collide.
        fractions = sorted({r["fraction"] for r in table if r["scheme"] == scheme} - {0})
        bottom.set_xticks(fractions, [percent(f) for f in fractions])
        bottom.xaxis.set_minor_formatter(NullFormatter())
        top.set_title(f"label scheme: {scheme}")
        bottom.set_xlabel("label fraction")
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy (%)")
    axes[1][0].set_ylabel("points over labeled-only")
    axes[0][0].legend(fontsize="small")
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
        replace_block(FLAGS.readme, FLAGS.block, markdown(table))
    print(markdown(table))
    print(f"Wrote {FLAGS.output}.md, .csv and .png")


if __name__ == "__main__":
    # Defined here, not on import, so that tests can import this beside other scripts.
    flags.DEFINE_string("output", "results/summary", "Path prefix of the .md, .csv and .png.")
    define_readme_flags("sweep")
    app.run(main)
