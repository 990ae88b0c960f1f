"""The label-fraction study from results JSONs alone: tables and a plot per label scheme.

    python -m run_scripts.plot_results results/omniglot/sweep/*.json \\
        --output=results/omniglot/sweep_summary

writes <output>.md (two markdown tables), <output>.csv and <output>.png (per scheme: test
accuracy against label fraction, one line per method with its 95% band, and below it each
method's points over labeled-only MAML with the 95% interval of that difference).

Intervals (meta/statistics.py): a cell's accuracy is the mean over its seeds, its band the
t-interval over those seeds (it holds the seed-to-seed spread); a one-seed cell can only show
the interval over its test tasks, and the table says which one it shows. A comparison with
labeled-only MAML (and, for methods with generated tasks, with LASIUM alone on a GAN of the
same epochs: what the labels add) pairs runs of the same seed on the same test tasks: per
seed, the mean of the per-task differences with its interval over tasks; across seeds, the
mean of the per-seed differences with the t-interval over seeds, the one that says whether
a method pays.
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

from infra.atomic_io import write_figure_atomic, write_text_atomic
from infra.entry_point import run_main
from meta.config import GENERATED_METHODS, MIXING_METHODS, TRAIN_QUERY, mix_name, shifts
from meta.readme_blocks import define_readme_flags, replace_block
from meta.results import check_results
from meta.statistics import over_seeds, run_difference

FLAGS = flags.FLAGS

NAMES = {"lasium": "LASIUM (no labels)", "labeled_only": "labeled-only MAML", "ssml": "SSML",
         "ssml_ssg": "SSML-SSG", "maml": "MAML (supervised budget)"}
LEARNER_NAMES = {"protonets": "ProtoNets"}


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


def line_key(r):
    """The line a run belongs to: its method and meta-learner ("ssml/protonets"; MAML is
    not named) and, for methods that mix task streams, how they were mixed (a run's JSON
    from before --mix existed gives just the method), its GAN's training epochs, and which
    training queries were shifted: shifted runs never pool with unshifted ones. Training tasks
    with another number of queries per class than LASIUM's 5 are another line too."""
    c = r.get("config", {})
    learner = c.get("learner", "maml")
    key = r["method"] + ("" if learner == "maml" else f"/{learner}")
    if key in MIXING_METHODS and "mix" in c:
        key += f"|{mix_name(c)}"
    if r["method"] in GENERATED_METHODS and "gan_epochs" in c:
        key += f"|{c['gan_epochs']} GAN epochs"  # another GAN: another line
    if c.get("train_query", TRAIN_QUERY) != TRAIN_QUERY:
        q = c["train_query"]
        key += f"|{q} training {'query' if q == 1 else 'queries'} per class"
    generated, labeled = shifts(dict(
        method=r["method"], label_fraction=r.get("label_fraction", 1),
        query_augmentation=c.get("query_augmentation"),
        labeled_query_augmentation=c.get("labeled_query_augmentation")))
    shifted = [name for name, on in (("labeled", labeled), ("generated", generated)) if on]
    return key + (f"|shifted {' and '.join(shifted)} queries" if shifted else "")


def baselines(r):
    """The (line, label fraction) cells this run is compared with: labeled-only MAML at the
    run's fraction (None), its labeled queries shifted as this run's were, the baseline SSML
    must beat; for a run with generated tasks, LASIUM alone (fraction 0) on a GAN of the
    same epochs with the same generated queries: what the labels add to the GAN's tasks; and
    for SSML-SSG, SSML mixed and shifted alike on a plain GAN of the same epochs: what the
    labels add by training the GAN too. All with the run's learner and number of training
    queries."""
    c = r.get("config", {})
    shared = dict(learner=c.get("learner", "maml"),
                  train_query=c.get("train_query", TRAIN_QUERY))
    out = [(line_key(dict(method="labeled_only", config=dict(
        shared, labeled_query_augmentation=c.get("labeled_query_augmentation")))), None)]
    if r["method"] in GENERATED_METHODS and "gan_epochs" in c:
        out.append((line_key(dict(method="lasium", label_fraction=0, config=dict(
            shared, gan_epochs=c["gan_epochs"],
            query_augmentation=c.get("query_augmentation")))), 0))
    if r["method"] == "ssml_ssg":
        out.append((line_key(dict(r, method="ssml")), None))
    return out


def method_of(key):
    return key.partition("|")[0].partition("/")[0]


def line_name(key):
    """"SSML (batch 0.5, ...)"; another learner than MAML replaces MAML in the name or
    joins the method's ("labeled-only ProtoNets", "SSML-ProtoNets (batch 0.5, ...)")."""
    method, *settings = key.split("|")
    method, _, learner = method.partition("/")
    name = NAMES.get(method, method)
    if learner:
        learner = LEARNER_NAMES.get(learner, learner)
        if "MAML" in name:
            name = name.replace("MAML", learner)
        else:
            head, _, rest = name.partition(" ")
            name = f"{head}-{learner} {rest}".strip()
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


def rows(runs):
    def order(cell):  # by scheme, fraction, then method in the order of NAMES
        (scheme, key, fraction), _ = cell
        method = method_of(key)
        return scheme, fraction, list(NAMES).index(method) if method in NAMES else len(NAMES), key

    for (scheme, key, fraction), group in sorted(cells(runs).items(), key=order):
        group = sorted(group, key=lambda r: r["seed"])
        seeds = [r["seed"] for r in group]
        if len(set(seeds)) < len(seeds):
            raise ValueError(f"{line_name(key)} at {percent(fraction)} ({scheme}) has two runs "
                             f"of one seed: {[r['command'] for r in group]}")
        accuracy, ci, over = over_seeds([(100 * r["test_accuracy"], 100 * r["test_ci95"])
                                         for r in group])
        yield dict(scheme=scheme, fraction=fraction, method=line_name(key),
                   seeds=len(group), accuracy=accuracy, ci95=ci, interval=over,
                   per_seed=" ".join(f"{100 * r['test_accuracy']:.2f}" for r in group),
                   iterations=sorted({r["iterations"] for r in group}),
                   by_seed={r["seed"]: r for r in group}, key=key,
                   baselines=baselines(group[0]))


def percent(fraction):
    """A label fraction as the table and the plot's ticks both write it: 0.005 -> '0.5%'."""
    return f"{100 * fraction:g}%"


def markdown(table):
    lines = ["| scheme | labels | method | seeds | test accuracy (95% interval) | interval over "
             "| per seed | iterations |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['scheme']} | {percent(r['fraction'])} | {r['method']} | {r['seeds']} | "
              f"{r['accuracy']:.2f}% ± {r['ci95']:.2f} | {r['interval']} | {r['per_seed']} | "
              f"{'/'.join(map(str, r['iterations']))} |" for r in table]
    return "\n".join(lines) + "\n"


def comparisons(table):
    """Each line against its baselines (`baselines`), over the seeds both have (a seed fixes
    the split, the labeled subset and the test tasks): per seed, the paired difference over
    test tasks (or, for runs from before per-task accuracies were kept, the difference of
    their means, without interval); across seeds, the mean difference with its t-interval
    over seeds."""
    cells_ = {(r["scheme"], r["key"], r["fraction"]): r for r in table}
    for r in table:
        if r["fraction"] in (0, 1):
            continue
        for base_key, fraction in r["baselines"]:
            base = cells_.get((r["scheme"], base_key,
                               r["fraction"] if fraction is None else fraction))
            if base is None or r["key"] == base_key:
                continue
            seeds = sorted(set(r["by_seed"]) & set(base["by_seed"]))
            if not seeds:
                continue
            # Points of this line over the baseline, with the interval over paired test tasks.
            per_seed = [tuple(100 * x for x in run_difference(r["by_seed"][s],
                                                              base["by_seed"][s]))
                        for s in seeds]
            difference, half, over = over_seeds(per_seed)
            yield dict(scheme=r["scheme"], fraction=r["fraction"], method=r["method"],
                       key=r["key"], versus=base["method"], versus_key=base_key,
                       seeds=len(seeds), difference=difference, ci95=half, interval=over,
                       per_seed=per_seed)


def signed(value, half):
    return f"{value:+.2f}" + ("" if math.isnan(half) else f" ± {half:.2f}")


def verdict(row):
    low, high = row["difference"] - row["ci95"], row["difference"] + row["ci95"]
    if math.isnan(row["ci95"]):
        return "no interval"
    return "ahead" if low > 0 else "behind" if high < 0 else "within noise"


def comparison_markdown(rows_):
    lines = ["| scheme | labels | method | against | seeds | per seed: points (95% over test "
             "tasks) | mean points (95% interval) | interval over | verdict |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    lines += [f"| {r['scheme']} | {percent(r['fraction'])} | {r['method']} | {r['versus']} | "
              f"{r['seeds']} | {'; '.join(signed(*d) for d in r['per_seed'])} | "
              f"{signed(r['difference'], r['ci95'])} | {r['interval']} | {verdict(r)} |"
              for r in rows_]
    return "\n".join(lines) + "\n"


def to_csv(table):
    out = io.StringIO()
    fields = ["scheme", "fraction", "method", "seeds", "accuracy", "ci95", "interval", "per_seed"]
    writer = csv.DictWriter(out, fields, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(table)
    return out.getvalue()


def gains(comparisons_, scheme, key):
    """(fractions, mean points over labeled-only, 95% half-widths) of one line."""
    points = [(r["fraction"], r["difference"], r["ci95"]) for r in comparisons_
              if (r["scheme"], r["key"]) == (scheme, key)
              and r["versus_key"].startswith("labeled_only")]
    return tuple(list(v) for v in zip(*points)) if points else ([], [], [])


def plot(table, path):
    """Per scheme: accuracy against label fraction, and below it each method's gain over
    labeled-only MAML (the question SSML must answer: do generated tasks add anything?),
    with the labeled queries shifted as that method's were. Returns the figure."""
    compared = list(comparisons(table))
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import NullFormatter

    schemes = sorted({r["scheme"] for r in table})
    fig, axes = plt.subplots(2, len(schemes), figsize=(5 * len(schemes), 7), squeeze=False,
                             sharex=True, sharey="row", height_ratios=[3, 2])
    # One color and marker per line, the same in every panel (markers so that overlapping
    # points still show).
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    keys = list(dict.fromkeys(r["key"] for r in table))
    style = {k: (colors[i % len(colors)], "osD^vP*X"[i % 8]) for i, k in enumerate(keys)}
    for top, bottom, scheme in zip(axes[0], axes[1], schemes):
        lines = {}
        for r in table:
            if r["scheme"] == scheme:
                lines.setdefault(r["key"], []).append(r)
        for key, line in lines.items():
            color, marker = style[key]
            x, y, ci = ([r[f] for r in line] for f in ("fraction", "accuracy", "ci95"))
            label = textwrap.fill(line_name(key), 40)
            if method_of(key) == "lasium":  # no labels: a level across the panel
                top.axhline(y[0], color=color, linestyle=":", label=label)
                top.axhspan(y[0] - ci[0], y[0] + ci[0], color=color, alpha=0.15)
                continue
            top.plot(x, y, marker + "-", color=color, label=label)
            top.fill_between(x, [a - c for a, c in zip(y, ci)], [a + c for a, c in zip(y, ci)],
                             color=color, alpha=0.2)
            x, y, ci = gains(compared, scheme, key)
            if x:
                bottom.errorbar(x, y, yerr=ci, fmt=marker + "-", color=color, capsize=3)
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
    axes[0][0].set_ylabel("test accuracy (%)\n95% band over seeds (1 seed: test tasks)")
    axes[1][0].set_ylabel("points over labeled-only\n95% t-interval over seeds")
    fig.tight_layout()
    # Beside the panels, where it hides no point; every panel's lines, each once.
    legend = {}
    for ax in axes[0]:
        legend.update(zip(*reversed(ax.get_legend_handles_labels())))
    fig.legend(legend.values(), legend.keys(), loc="upper left", fontsize="small",
               bbox_to_anchor=(1, 1))
    write_figure_atomic(path, fig)
    return fig


def main(argv):
    if len(argv) < 2:
        raise app.UsageError("Pass the results JSONs to plot.")
    table = list(rows(load(argv[1:])))
    text = markdown(table) + "\n" + comparison_markdown(comparisons(table))
    write_text_atomic(FLAGS.output + ".md", text)
    write_text_atomic(FLAGS.output + ".csv", to_csv(table))
    plot(table, FLAGS.output + ".png")
    if FLAGS.readme:
        replace_block(FLAGS.readme, FLAGS.block, text)
    print(text)
    print(f"Wrote {FLAGS.output}.md, .csv and .png")


if __name__ == "__main__":
    # Defined here, not on import, so that tests can import this beside other scripts.
    flags.DEFINE_string("output", "results/summary", "Path prefix of the .md, .csv and .png.")
    define_readme_flags("sweep")
    run_main(main)
