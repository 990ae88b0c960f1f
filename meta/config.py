"""The run configuration: absl flags in, one frozen `Config` out.

Every flag can be overridden on the command line of any run script. A `--preset`
fills in the flags the user did not set: ``cpu`` (default) is sized for a 2-core
machine without GPU, ``paper`` follows LASIUM's budget for GPU machines.
"""
import dataclasses

from absl import flags

from models.classifier import BATCH_NORM_MODES
from models.gan import DIVERSITY_PAIRS
from tasks.label_budget import SCHEMES
from meta.gan_training import PRECISION_CHOICES as GAN_PRECISIONS, resolve_precision
from tasks.augmentation import KINDS as SHIFT_KINDS
from tasks.lasium import SAMPLERS
from tasks.mixing import STRATEGIES as MIX_STRATEGIES

FLAGS = flags.FLAGS

METHODS = ("maml", "labeled_only", "lasium", "ssml", "ssml_ssg")
LEARNERS = ("maml", "protonets")
GENERATED_METHODS = ("lasium", "ssml", "ssml_ssg")  # the methods that train a GAN
MIXING_METHODS = ("ssml", "ssml_ssg")  # labeled tasks merged with generated ones (--mix)
# Each LASIUM sampler's flag for how far a class's members lie from their anchor.
SAMPLER_PARAMETER = {"n": "lasium_sigma", "ro": "lasium_ro_alpha", "oc": "lasium_oc_alpha"}

META_BATCH = 4  # LASIUM's; run folders name any other
TRAIN_QUERY = 5  # LASIUM's; results tables name any other
DATASETS = ("omniglot", "mini_imagenet")

# Per (data set, preset): only the values that differ from the flag defaults below.
PRESETS = {
    # LASIUM's anchor rejection on Omniglot (for its 128-dim latents): 246.09375 is 96% of
    # the mean squared distance of two N(0, I) anchors, 2 * 128.
    ("omniglot", "cpu"): dict(iterations=8000, lasium_anchor_epsilon=246.09375),
    ("omniglot", "paper"): dict(iterations=15000, num_val_tasks=200, gan_epochs=500,
                                lasium_anchor_epsilon=246.09375),
    ("mini_imagenet", "cpu"): dict(iterations=1000, inner_lr=0.05, num_val_tasks=50),
    ("mini_imagenet", "paper"): dict(iterations=15000, inner_lr=0.05, num_val_tasks=200,
                                     gan_epochs=1000),
}
# On the CPU, runs with generated tasks also pay for the GAN and for the generator call
# per meta-batch (about as long as the MAML step itself; run_scripts/bench_maml.py), so
# they get fewer meta-iterations; the GAN, trained once and cached, takes about as long
# again. labeled_only gets the same budget: it is the baseline they are compared with.
# Mini-ImageNet's GAN step is far slower on a CPU (about 10 s per batch of 128,
# bench_maml.py --dataset=mini_imagenet), so one epoch (300 steps, most of an hour) is all
# its CPU preset affords: enough to run the method end to end, not to learn good tasks.
# Omniglot's 20 GAN epochs: LASIUM alone at 2,500 iterations rose from 76.7% after 10 to
# 86.5% after 20 and 88.9% after 30 in float32, 86.6% and 87.6% in bfloat16 (results/README.md,
# the GAN-epoch curve; one seed). 30 epochs would be the better preset, but they take the
# main job (run_scripts/omniglot_ssml.sh) past its hour on 2 cores (0.55 s a bfloat16 step,
# 187 steps an epoch, then 2,500 SSML iterations); 20 keep it within the hour and within a
# point of 30 in bfloat16, the precision this CPU trains in (--gan_precision=auto).
GENERATED_CPU_PRESETS = {
    "omniglot": dict(iterations=2500, gan_epochs=20),
    "mini_imagenet": dict(iterations=500, gan_epochs=1),
}


PRESET_FLAGS = sorted({k for v in [*PRESETS.values(), *GENERATED_CPU_PRESETS.values()] for k in v})


def preset_values(dataset: str, preset: str, method: str) -> dict:
    values = dict(PRESETS[(dataset, preset)])
    if preset == "cpu" and method != "maml":
        values.update(GENERATED_CPU_PRESETS[dataset])
    return values


def _generated(v) -> bool:
    return v["method"] in GENERATED_METHODS


def _mixing(v) -> bool:
    return mixes_streams(v["method"], v["label_fraction"])


def _mixing_by(kind: str):
    return lambda v: _mixing(v) and v.get("mix") == kind


def _shifting(v) -> bool:
    return any(shifts(v))


def _ssg(v) -> bool:
    return v["method"] == "ssml_ssg"


def _maml(v) -> bool:
    return v.get("learner", "maml") == "maml"


def setting(default, help: str, *, choices=None, at_least=None, above=None, at_most=None,
            resumable: bool = False, bookkeeping: bool = False, read_if=None):
    """A Config field and everything about it: its flag's default, help and choices, its
    bounds (checked when a Config is made), whether a run may be resumed with another value
    (`resumable`), whether it only says where things go, never what a run computes
    (`bookkeeping`: the sweep ignores it), and which runs read it (`read_if(values)`;
    others compute the same whatever its value)."""
    return dataclasses.field(default=default, metadata=dict(
        help=help, choices=choices, at_least=at_least, above=above, at_most=at_most,
        resumable=resumable, bookkeeping=bookkeeping, read_if=read_if))


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str = setting("omniglot", "Data set.", choices=DATASETS)
    data_dir: str = setting(None, "Folder with the data; default: $SSML_DATA_DIR, ./data, then "
                            "../shared/data.", resumable=True, bookkeeping=True)
    omniglot_split: str = setting(
        "character", "Omniglot class split: seeded 1200/100/323 characters, or Lake's "
        "background/evaluation alphabets.", choices=("character", "alphabet"))
    preset: str = setting("cpu", "Budget: cpu (2 cores, no GPU) or paper (LASIUM's, for GPUs). "
                          "It sets the defaults of " + ", ".join(PRESET_FLAGS) + " per data "
                          "set and method; flags given on the command line win.",
                          choices=("cpu", "paper"), resumable=True, bookkeeping=True)
    learner: str = setting("maml", "Meta-learner: maml (an inner loop of SGD steps from "
                           "learned weights) or protonets (prototypical networks on the same "
                           "network's embedding: no inner loop, far cheaper on a CPU).",
                           choices=LEARNERS)
    method: str = setting(
        "maml", "maml: MAML on the labeled tasks the budget allows, with the supervised "
        "budget; labeled_only: the same with the budget of ssml, the baseline ssml must beat; "
        "lasium: on GAN-generated tasks only; ssml: on labeled tasks mixed with generated ones "
        "(--mix); ssml_ssg: the same, with a semi-supervised class-conditional GAN (--ssg_*).",
        choices=METHODS)
    seed: int = setting(0, "Fixes data split, label subset, tasks and initialization.")
    label_scheme: str = setting("classes", "Which training labels are kept.", choices=SCHEMES)
    label_fraction: float = setting(1.0, "Fraction X of labels kept.", at_least=0.0, at_most=1.0)
    n_way: int = setting(5, "Classes per task.", at_least=2)
    train_n_way: int = setting(None, "Classes per meta-training task (default --n_way; "
                               "protonets may train on more ways than it is tested on, as "
                               "Snell et al.).", at_least=2)
    k_shot: int = setting(1, "Support images per class.", at_least=1)
    train_query: int = setting(TRAIN_QUERY, "Query images per class in meta-training tasks.",
                               at_least=1)
    eval_query: int = setting(15, "Query images per class in validation/test tasks.",
                              at_least=1)
    meta_batch: int = setting(META_BATCH, "Tasks per meta-update.", at_least=1)
    iterations: int = setting(8000, "Meta-updates.", at_least=0, resumable=True)
    meta_lr: float = setting(1e-3, "Adam learning rate of the meta-update.", above=0.0)
    meta_lr_halving: int = setting(0, "Halve the meta learning rate every this many "
                                   "meta-updates (0: constant; Snell et al. halve ProtoNets' "
                                   "every 2,000 episodes).", at_least=0)
    inner_lr: float = setting(0.4, "Inner SGD learning rate in meta-training.", read_if=_maml)
    inner_steps: int = setting(5, "Inner SGD steps in meta-training.", at_least=0,
                               read_if=_maml)
    val_inner_lr: float = setting(None, "Inner learning rate at validation (default "
                                  "--inner_lr).", read_if=_maml)
    val_inner_steps: int = setting(50, "Inner steps at validation.", at_least=0, read_if=_maml)
    test_inner_lr: float = setting(None, "Inner learning rate at test (default --inner_lr).",
                                   resumable=True, read_if=_maml)
    test_inner_steps: int = setting(50, "Inner steps at test.", at_least=0, resumable=True,
                                    read_if=_maml)
    first_order: bool = setting(False, "First-order MAML (no second derivatives).",
                                read_if=_maml)
    clip_norm: float = setting(0.0, "Clip the meta-gradient to this global norm (0: off).",
                               at_least=0.0)
    batch_norm: str = setting("transductive", "transductive: every batch normalized by its "
                              "own statistics (LASIUM).", choices=BATCH_NORM_MODES)
    num_val_tasks: int = setting(100, "Fixed validation tasks.", at_least=1)
    num_test_tasks: int = setting(1000, "Fixed test tasks.", at_least=1, resumable=True)
    val_every: int = setting(500, "Validate (and keep the best checkpoint) every N steps.",
                             at_least=1)
    log_every: int = setting(50, "Log scalars and progress every N steps.", at_least=1,
                             resumable=True, bookkeeping=True)
    image_every: int = setting(1000, "Log a task's images every N steps.", at_least=1,
                               resumable=True, bookkeeping=True)
    checkpoint_every: int = setting(250, "Save a resumable checkpoint every N steps.",
                                    at_least=1, resumable=True, bookkeeping=True)
    output_dir: str = setting(None, "Run folder (default runs/<dataset>_<method>_...).",
                              resumable=True, bookkeeping=True)
    eval_checkpoint: str = setting("best", "Checkpoint to test: best, latest, or a path.",
                                   resumable=True)
    distribute: str = setting("default", "default: one device; mirrored: split each "
                              "meta-batch across all GPUs; multi_worker: across the processes "
                              "that TF_CONFIG lists (one per machine), the chief writing the "
                              "run folder.", choices=("default", "mirrored", "multi_worker"),
                              resumable=True)
    xla: bool = setting(False, "Compile the meta-gradient with XLA (jit_compile).",
                        resumable=True)
    deterministic: bool = setting(True, "Deterministic TensorFlow ops (exact resume).")
    # Generated (LASIUM) tasks and their GAN.
    lasium: str = setting("n", "LASIUM sampler: n (noise), ro (toward random vectors), oc "
                          "(toward other anchors).", choices=SAMPLERS, read_if=_generated)
    lasium_sigma: float = setting(0.5, "LASIUM-N: std of the noise added to an anchor.",
                                  at_least=0.0, read_if=_generated)
    lasium_ro_alpha: float = setting(0.2, "LASIUM-RO: interpolation toward a random vector.",
                                     read_if=_generated)
    lasium_oc_alpha: float = setting(0.6, "LASIUM-OC: interpolation toward another anchor.",
                                     read_if=_generated)
    lasium_anchor_epsilon: float = setting(
        0.0, "Redraw anchors until all pairwise squared distances exceed this (0: off; "
        "LASIUM's Omniglot run of LASIUM-N used 246.09375, for 128-dim latents: the Omniglot "
        "presets' value).", at_least=0.0, read_if=_generated)
    lasium_anchor_support: bool = setting(
        True, "The first support image of every generated class is the generator's image of "
        "its anchor itself (LASIUM's recipe); the other members are drawn near it by the "
        "sampler.", read_if=_generated)
    mix: str = setting("batch", "ssml: how labeled and generated tasks are merged (alternate: "
                       "whole meta-batches in blocks; batch: both in every meta-batch; "
                       "schedule: the labeled share moves over the run).",
                       choices=MIX_STRATEGIES, read_if=_mixing)
    labeled_share: float = setting(0.5, "ssml: share of labeled tasks (the final share for "
                                   "--mix=schedule).", at_least=0.0, at_most=1.0,
                                   read_if=_mixing)
    labeled_share_start: float = setting(0.0, "ssml, --mix=schedule: the share at the start.",
                                         at_least=0.0, at_most=1.0,
                                         read_if=_mixing_by("schedule"))
    mix_block: int = setting(1, "ssml, --mix=alternate: meta-iterations per block.",
                             at_least=1, read_if=_mixing_by("alternate"))
    generated_weight: float = setting(
        1.0, "ssml, --mix=batch: weight of a generated task's query loss against a labeled "
        "task's 1 in the meta-loss, a weighted mean (0: the generated tasks are made but "
        "ignored).", at_least=0.0, read_if=_mixing_by("batch"))
    labeled_query_augmentation: bool = setting(
        False, "Randomly shift the query images of labeled training tasks by --query_shift "
        "(never validation or test tasks).")
    query_augmentation: bool = setting(
        True, "Randomly shift the query images of generated tasks by --query_shift (LASIUM's "
        "recipe; never their support images).", read_if=_generated)
    query_shift: str = setting(
        "integer", "How query images are shifted: integer: whole pixels, dx and dy uniform in "
        "[-m, m), nearest, background fill (LASIUM's); bilinear: continuous in (-m, m), "
        "bilinear, edge fill.", choices=SHIFT_KINDS, read_if=_shifting)
    query_shift_max: float = setting(5.0, "m of --query_shift: pixels if >= 1, else a fraction "
                                     "of the image side (LASIUM: 5 pixels of Omniglot's 28).",
                                     above=0.0, read_if=_shifting)
    gan_data: str = setting(
        "all", "The GAN's training images: all training images (labels unused; the usual "
        "semi-supervised setting, and one cached GAN serves every label budget), or only those "
        "the label budget leaves unlabeled.", choices=("all", "unlabeled"), read_if=_generated)
    gan_dir: str = setting("runs/gans", "Cache of trained GANs, shared by runs (a GAN is "
                           "found by what it was trained on and how, wherever the cache is).",
                           resumable=True, bookkeeping=True, read_if=_generated)
    gan_epochs: int = setting(30, "GAN training epochs (0: the untrained generator).",
                              at_least=0, read_if=_generated)
    gan_batch_size: int = setting(128, "GAN batch size.", at_least=1, read_if=_generated)
    gan_lr: float = setting(3e-4, "Adam learning rate of both GAN networks.", above=0.0,
                            read_if=_generated)
    gan_label_noise: float = setting(0.05, "Uniform noise moving the GAN's real/fake targets.",
                                     at_least=0.0, read_if=_generated)
    gan_diversity_weight: float = setting(
        0.1, "Weight of the mode-seeking diversity term (at 1.0 the generator traded realism "
        "for diversity: white boxes).", at_least=0.0, read_if=_generated)
    gan_diversity_pairs: str = setting(
        "second_batch", "The mode-seeking term's image pairs: second_batch: a second latent "
        "batch, so the generator makes and learns from 2 x --gan_batch_size fakes per step; "
        "within_batch: one batch of fakes, its first half paired with its second (the "
        "generator's work per step halved).", choices=DIVERSITY_PAIRS, read_if=_generated)
    gan_checkpoint_every: int = setting(5, "GAN state and generator snapshot every N epochs.",
                                        at_least=1, bookkeeping=True, read_if=_generated)
    gan_precision: str = setting(
        "auto", "The GAN networks' compute type: float32, mixed_bfloat16 (bfloat16 compute, "
        "float32 weights and outputs; fast on CPUs with AVX512_BF16 or AMX, slow on others), "
        "or auto: mixed_bfloat16 on such CPUs without a GPU, float32 elsewhere. Runs record "
        "the type used.",
        choices=GAN_PRECISIONS, read_if=_generated)
    # ssml_ssg: the semi-supervised GAN (models/ssgan.py) and its tasks.
    ssg_formulation: str = setting(
        "salimans", "Discriminator: K class logits whose logsumexp is the real/fake logit "
        "(Salimans et al. 2016), or K class logits plus a separate real/fake logit.",
        choices=("salimans", "separate"), read_if=_ssg)
    ssg_supervised_weight: float = setting(1.0, "Weight of the discriminator's cross-entropy "
                                           "on the labeled images.", at_least=0.0,
                                           read_if=_ssg)
    ssg_class_weight: float = setting(1.0, "Weight of the generator's AC-GAN term (the "
                                      "discriminator should classify G(z, c) as c).",
                                      at_least=0.0, read_if=_ssg)
    ssg_feature_matching: bool = setting(False, "Generator matches the discriminator's mean "
                                         "features instead of the non-saturating adversarial "
                                         "loss.", read_if=_ssg)
    ssg_mix_classes: int = setting(2, "Labeled classes mixed into each generated class's code "
                                   "(1: tasks made only of labeled classes).", at_least=1,
                                   read_if=_ssg)

    def __post_init__(self):
        for field in dataclasses.fields(self):
            _check_bounds(field, getattr(self, field.name))
        check = [
            (self.train_n_way == self.n_way or self.learner == "protonets",
             f"--train_n_way={self.train_n_way} differs from --n_way={self.n_way}: MAML's "
             "classifier head has --n_way outputs, so only --learner=protonets can train on "
             "other ways than it is tested on."),
            (self.method != "lasium" or self.label_fraction == 0.0,
             "--method=lasium uses no labels: pass --label_fraction=0 (the GAN trains on the "
             "unlabeled pool, all training images at 0)."),
            (self.method not in ("labeled_only", "ssml_ssg") or self.label_fraction > 0.0,
             f"--method={self.method} needs labels: pass --label_fraction > 0."),
            (not self.labeled_query_augmentation
             or (self.method != "lasium" and self.label_fraction > 0),
             "--labeled_query_augmentation shifts labeled training tasks, and this run has "
             "none: drop it, or pass --label_fraction > 0 with a method that uses labels "
             "(--query_augmentation shifts generated tasks)."),
            # Like --mix, the weight is unused where a run does not mix (labeled_only);
            # but it contradicts a mix whose meta-batches hold one kind of task only.
            (self.generated_weight == 1.0 or self.mix == "batch"
             or not mixes_streams(self.method, self.label_fraction),
             "--generated_weight weighs generated against labeled tasks within a meta-batch: "
             "it needs --mix=batch."),
        ]
        for ok, message in check:
            if not ok:
                raise ValueError(message)

    @classmethod
    def from_flags(cls, argv_flags=FLAGS) -> "Config":
        """The flags' values, with the preset's values for flags not given; refuses flags
        given that contradict the run."""
        values = {f.name: argv_flags[f.name].value for f in dataclasses.fields(cls)}
        preset = preset_values(values["dataset"], values["preset"], values["method"])
        for name, value in preset.items():
            if not argv_flags[name].present:
                values[name] = value
        if values["train_n_way"] is None:
            values["train_n_way"] = values["n_way"]
        for stage in ("val", "test"):
            if values[f"{stage}_inner_lr"] is None:
                values[f"{stage}_inner_lr"] = values["inner_lr"]
        values["gan_precision"] = resolve_precision(values["gan_precision"])
        if values["output_dir"] is None:
            values["output_dir"] = default_output_dir(values)
        # On by default, so only a --query_augmentation the user gave can contradict a run.
        if argv_flags["query_augmentation"].present and values["query_augmentation"] \
                and not _generated(values):
            raise ValueError(
                f"--query_augmentation shifts the queries of generated tasks, and "
                f"--method={values['method']} makes none: drop it, pass "
                "--labeled_query_augmentation to shift the queries of labeled tasks, or choose "
                f"a method with generated tasks ({', '.join(GENERATED_METHODS)}).")
        return cls(**values)


def mixes_streams(method: str, label_fraction: float) -> bool:
    """Whether a run merges labeled and generated tasks by --mix (where no label exists, a
    mixing method is LASIUM)."""
    return method in MIXING_METHODS and label_fraction > 0


def unused_fields(v) -> set:
    """Names of the Config fields that the run of config values `v` never reads: any value
    of them computes the same (labeled_only ignores --mix, say)."""
    return {f.name for f in dataclasses.fields(Config)
            if f.metadata["read_if"] is not None and not f.metadata["read_if"](v)}


def resumable_fields() -> set:
    """The settings a run may be resumed with other values of."""
    return {f.name for f in dataclasses.fields(Config) if f.metadata["resumable"]}


def bookkeeping_fields() -> set:
    """The settings that say where things go, never what a run computes."""
    return {f.name for f in dataclasses.fields(Config) if f.metadata["bookkeeping"]}


def _bounds(field) -> list:
    m = field.metadata
    return [(op, m[key]) for key, op in (("at_least", ">="), ("above", ">"), ("at_most", "<="))
            if m[key] is not None]


def _check_bounds(field, value):
    if value is None:  # a default filled in later (train_n_way, val_inner_lr...)
        return
    ok = {">=": lambda b: value >= b, ">": lambda b: value > b, "<=": lambda b: value <= b}
    for op, bound in _bounds(field):
        if not ok[op](bound):  # also refuses nan
            raise ValueError(f"--{field.name}={value} is out of range: it must be "
                             f"{' and '.join(f'{o} {b:g}' for o, b in _bounds(field))}.")


def define_flags(flag_values=FLAGS):
    """One absl flag per Config field, from the field's declaration."""
    for field in dataclasses.fields(Config):
        m = field.metadata
        bounds = _bounds(field)
        help = m["help"] + (f" ({', '.join(f'{o} {b:g}' for o, b in bounds)})" if bounds else "")
        options = dict(name=field.name, default=field.default, help=help,
                       flag_values=flag_values)
        if m["choices"]:
            flags.DEFINE_enum(enum_values=list(m["choices"]), **options)
        else:
            define = {bool: flags.DEFINE_bool, int: flags.DEFINE_integer,
                      float: flags.DEFINE_float, str: flags.DEFINE_string}[field.type]
            define(**options)


def shifts(v) -> tuple:
    """Whether the run of config values `v` shifts the query images of (generated, labeled)
    training tasks."""
    return (bool(v["query_augmentation"]) and v["method"] in GENERATED_METHODS,
            bool(v["labeled_query_augmentation"]) and v["label_fraction"] > 0
            and v["method"] != "lasium")


def mix_name(v) -> str:
    """How a mixing method merges its task streams: "batch 0.5", "alternate 0.5 x2 blocks",
    "schedule 0 to 1" (run folders drop the spaces, plots show it as is)."""
    if v["mix"] == "schedule":
        return f"schedule {v['labeled_share_start']:g} to {v['labeled_share']:g}"
    blocks = f" x{v['mix_block']} blocks" if v["mix"] == "alternate" else ""
    weight = v.get("generated_weight", 1.0)
    weight = f" weight {weight:g}" if v["mix"] == "batch" and weight != 1.0 else ""
    return f"{v['mix']} {v['labeled_share']:g}{blocks}{weight}"


def default_output_dir(v) -> str:
    return f"runs/{v['dataset']}_{run_name(v)}"


def run_name(v) -> str:
    """The one name of a run, from its config values: its default folder
    (runs/<dataset>_<name>), its sweep cell and its results file. Method, mix, GAN, the
    flags users commonly flip, task shape, label budget and seed; the config.json beside it
    holds the rest."""
    method = v["method"] + (f"-{v['lasium']}" if v["method"] in GENERATED_METHODS else "")
    if v["method"] in MIXING_METHODS:
        method += "-" + mix_name(v).replace(" ", "")
    if v["method"] in GENERATED_METHODS:
        method += f"_gan{v['gan_epochs']}" + ("bf16" if v["gan_precision"] != "float32" else "")
        method += "wb" if v.get("gan_diversity_pairs") == "within_batch" else ""
    # Flags a user commonly flips get their own folder, rather than a resume refused for
    # a config that does not match.
    if v["meta_batch"] != META_BATCH:
        method += f"_mb{v['meta_batch']}"
    method += {(True, True): "_allshifts", (True, False): "_qshifts",
               (False, True): "_lqshifts"}.get(shifts(v), "")
    if any(shifts(v)) and (v["query_shift"], v["query_shift_max"]) != ("integer", 5.0):
        method += f"-{v['query_shift']}{v['query_shift_max']:g}"
    if v.get("learner", "maml") != "maml":
        method += f"_{v['learner']}"
    if v.get("train_n_way", v["n_way"]) != v["n_way"]:
        method += f"_train{v['train_n_way']}w"
    fraction = f"{v['label_scheme']}{v['label_fraction']:g}"
    return f"{method}_{v['n_way']}w{v['k_shot']}s_{fraction}_seed{v['seed']}"


def config_from_args(*args: str) -> Config:
    """A Config from command-line style arguments, without touching the global FLAGS."""
    flag_values = flags.FlagValues()
    define_flags(flag_values)
    flag_values(["config", *args])
    return Config.from_flags(flag_values)
