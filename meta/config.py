"""The run configuration: absl flags in, one frozen `Config` out.

Every flag can be overridden on the command line of any run script. A `--preset`
fills in the flags the user did not set: ``cpu`` (default) is sized for a 2-core
machine without GPU, ``paper`` follows LASIUM's budget for GPU machines.
"""
import dataclasses

from absl import flags

from models.classifier import BATCH_NORM_MODES
from tasks.label_budget import SCHEMES
from meta.gan_training import PRECISIONS as GAN_PRECISIONS
from tasks.augmentation import KINDS as SHIFT_KINDS
from tasks.lasium import SAMPLERS
from tasks.mixing import STRATEGIES as MIX_STRATEGIES

FLAGS = flags.FLAGS

METHODS = ("maml", "labeled_only", "lasium", "ssml", "ssml_ssg")
LEARNERS = ("maml", "protonets")
# What only MAML reads: its inner loops.
INNER_LOOP_FIELDS = ("inner_lr", "inner_steps", "val_inner_lr", "val_inner_steps", "test_inner_lr",
                     "test_inner_steps", "first_order")
GENERATED_METHODS = ("lasium", "ssml", "ssml_ssg")  # the methods that train a GAN
MIXING_METHODS = ("ssml", "ssml_ssg")  # labeled tasks merged with generated ones (--mix)
# Each LASIUM sampler's flag for how far a class's members lie from their anchor.
SAMPLER_PARAMETER = {"n": "lasium_sigma", "ro": "lasium_ro_alpha", "oc": "lasium_oc_alpha"}

META_BATCH = 4  # LASIUM's; run folders name any other

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
# Omniglot's 20 GAN epochs: LASIUM alone rose from 75.5% after 10 to 81.9% after 20
# (results/README.md, the GAN-epoch curve); later epochs are not measured yet.
GENERATED_CPU_PRESETS = {
    "omniglot": dict(iterations=2500, gan_epochs=20),
    "mini_imagenet": dict(iterations=500, gan_epochs=1),
}


def preset_values(dataset: str, preset: str, method: str) -> dict:
    values = dict(PRESETS[(dataset, preset)])
    if preset == "cpu" and method != "maml":
        values.update(GENERATED_CPU_PRESETS[dataset])
    return values


def define_flags(flag_values=FLAGS):
    d = _Definer(flag_values)
    d.DEFINE_enum("dataset", "omniglot", ["omniglot", "mini_imagenet"], "Data set.")
    d.DEFINE_string("data_dir", None, "Folder with the data; default: $SSML_DATA_DIR, ./data, "
                    "then ../shared/data.")
    d.DEFINE_enum("omniglot_split", "character", ["character", "alphabet"],
                  "Omniglot class split: seeded 1200/100/323 characters, or Lake's "
                  "background/evaluation alphabets.")
    preset_flags = sorted({k for v in [*PRESETS.values(), *GENERATED_CPU_PRESETS.values()] for k in v})
    d.DEFINE_enum("preset", "cpu", ["cpu", "paper"], "Budget: cpu (2 cores, no GPU) or paper "
                  "(LASIUM's, for GPUs). It sets the defaults of " + ", ".join(preset_flags) +
                  " per data set and method; flags given on the command line win.")
    d.DEFINE_enum("method", "maml", list(METHODS),
                  "maml: MAML on the labeled tasks the budget allows, with the supervised "
                  "budget; labeled_only: the same with the budget of ssml, the baseline ssml "
                  "must beat; lasium: on GAN-generated tasks only; ssml: on labeled tasks "
                  "mixed with generated ones (--mix); ssml_ssg: the same, with a "
                  "semi-supervised class-conditional GAN (--ssg_*).")
    d.DEFINE_enum("learner", "maml", list(LEARNERS), "Meta-learner: maml (an inner loop of "
                  "SGD steps from learned weights) or protonets (prototypical networks on the "
                  "same network's embedding: no inner loop, far cheaper on a CPU).")
    d.DEFINE_integer("seed", 0, "Fixes data split, label subset, tasks and initialization.")
    d.DEFINE_enum("label_scheme", "classes", list(SCHEMES), "Which training labels are kept.")
    d.DEFINE_float("label_fraction", 1.0, "Fraction X in [0, 1] of labels kept.")
    d.DEFINE_integer("n_way", 5, "Classes per task.")
    d.DEFINE_integer("train_n_way", None, "Classes per meta-training task (default --n_way; "
                     "protonets may train on more ways than it is tested on, as Snell et al.).")
    d.DEFINE_integer("k_shot", 1, "Support images per class.")
    d.DEFINE_integer("train_query", 5, "Query images per class in meta-training tasks.")
    d.DEFINE_integer("eval_query", 15, "Query images per class in validation/test tasks.")
    d.DEFINE_integer("meta_batch", META_BATCH, "Tasks per meta-update.")
    d.DEFINE_integer("iterations", 8000, "Meta-updates.")
    d.DEFINE_float("meta_lr", 1e-3, "Adam learning rate of the meta-update.")
    d.DEFINE_float("inner_lr", 0.4, "Inner SGD learning rate in meta-training.")
    d.DEFINE_integer("inner_steps", 5, "Inner SGD steps in meta-training.")
    d.DEFINE_float("val_inner_lr", None, "Inner learning rate at validation (default inner_lr).")
    d.DEFINE_integer("val_inner_steps", 50, "Inner steps at validation.")
    d.DEFINE_float("test_inner_lr", None, "Inner learning rate at test (default inner_lr).")
    d.DEFINE_integer("test_inner_steps", 50, "Inner steps at test.")
    d.DEFINE_bool("first_order", False, "First-order MAML (no second derivatives).")
    d.DEFINE_float("clip_norm", 0.0, "Clip the meta-gradient to this global norm (0: off).")
    d.DEFINE_enum("batch_norm", "transductive", list(BATCH_NORM_MODES),
                  "transductive: every batch normalized by its own statistics (LASIUM).")
    d.DEFINE_integer("num_val_tasks", 100, "Fixed validation tasks.")
    d.DEFINE_integer("num_test_tasks", 1000, "Fixed test tasks.")
    d.DEFINE_integer("val_every", 500, "Validate (and keep the best checkpoint) every N steps.")
    d.DEFINE_integer("log_every", 50, "Log scalars and progress every N steps.")
    d.DEFINE_integer("image_every", 1000, "Log a task's images every N steps.")
    d.DEFINE_integer("checkpoint_every", 250, "Save a resumable checkpoint every N steps.")
    d.DEFINE_string("output_dir", None, "Run folder (default runs/<dataset>_<method>_...).")
    d.DEFINE_string("eval_checkpoint", "best", "Checkpoint to test: best, latest, or a path.")
    d.DEFINE_enum("distribute", "default", ["default", "mirrored"],
                  "default: one device; mirrored: split each meta-batch across all GPUs.")
    d.DEFINE_bool("xla", False, "Compile the meta-gradient with XLA (jit_compile).")
    d.DEFINE_bool("deterministic", True, "Deterministic TensorFlow ops (exact resume).")
    # Generated (LASIUM) tasks and their GAN.
    d.DEFINE_enum("lasium", "n", list(SAMPLERS), "LASIUM sampler: n (noise), ro (toward "
                  "random vectors), oc (toward other anchors).")
    d.DEFINE_float("lasium_sigma", 0.5, "LASIUM-N: std of the noise added to an anchor.")
    d.DEFINE_float("lasium_ro_alpha", 0.2, "LASIUM-RO: interpolation toward a random vector.")
    d.DEFINE_float("lasium_oc_alpha", 0.6, "LASIUM-OC: interpolation toward another anchor.")
    d.DEFINE_float("lasium_anchor_epsilon", 0.0, "Redraw anchors until all pairwise squared "
                   "distances exceed this (0: off; LASIUM's Omniglot run of LASIUM-N used "
                   "246.09375, for 128-dim latents: the Omniglot presets' value).")
    d.DEFINE_bool("lasium_anchor_support", True, "The first support image of every generated "
                  "class is the generator's image of its anchor itself (LASIUM's recipe); "
                  "the other members are drawn near it by the sampler.")
    d.DEFINE_enum("mix", "batch", list(MIX_STRATEGIES), "ssml: how labeled and generated "
                  "tasks are merged (alternate: whole meta-batches in blocks; batch: both in "
                  "every meta-batch; schedule: the labeled share moves over the run).")
    d.DEFINE_float("labeled_share", 0.5, "ssml: share of labeled tasks (the final share for "
                   "--mix=schedule).")
    d.DEFINE_float("labeled_share_start", 0.0, "ssml, --mix=schedule: the share at the start.")
    d.DEFINE_integer("mix_block", 1, "ssml, --mix=alternate: meta-iterations per block.")
    d.DEFINE_float("generated_weight", 1.0, "ssml, --mix=batch: weight of a generated "
                   "task's query loss against a labeled task's 1 in the meta-loss, a "
                   "weighted mean (0: the generated tasks are made but ignored).")
    d.DEFINE_bool("labeled_query_augmentation", False, "Randomly shift the query images of "
                  "labeled training tasks by --query_shift (never validation or test tasks).")
    d.DEFINE_bool("query_augmentation", True, "Randomly shift the query images of generated "
                  "tasks by --query_shift (LASIUM's recipe; never their support images).")
    d.DEFINE_enum("query_shift", "integer", list(SHIFT_KINDS), "How query images are shifted: "
                  "integer: whole pixels, dx and dy uniform in [-m, m), nearest, background "
                  "fill (LASIUM's); bilinear: continuous in (-m, m), bilinear, edge fill.")
    d.DEFINE_float("query_shift_max", 5.0, "m of --query_shift: pixels if >= 1, else a "
                   "fraction of the image side (LASIUM: 5 pixels of Omniglot's 28).")
    d.DEFINE_enum("gan_data", "all", ["all", "unlabeled"],
                  "The GAN's training images: all training images (labels unused; the usual "
                  "semi-supervised setting, and one cached GAN serves every label budget), or "
                  "only those the label budget leaves unlabeled.")
    d.DEFINE_string("gan_dir", "runs/gans", "Cache of trained GANs, shared by runs.")
    d.DEFINE_integer("gan_epochs", 30, "GAN training epochs.")
    d.DEFINE_integer("gan_batch_size", 128, "GAN batch size.")
    d.DEFINE_float("gan_lr", 3e-4, "Adam learning rate of both GAN networks.")
    d.DEFINE_float("gan_label_noise", 0.05, "Uniform noise moving the GAN's real/fake targets.")
    d.DEFINE_float("gan_diversity_weight", 0.1, "Weight of the mode-seeking diversity term "
                   "(at 1.0 the generator traded realism for diversity: white boxes).")
    d.DEFINE_integer("gan_checkpoint_every", 5, "GAN state and generator snapshot every N epochs.")
    d.DEFINE_enum("gan_precision", "float32", list(GAN_PRECISIONS), "The GAN networks' compute "
                  "type: float32, or mixed_bfloat16 (bfloat16 compute, float32 weights and "
                  "outputs; fast on CPUs with AVX512_BF16 or AMX).")
    # ssml_ssg: the semi-supervised GAN (models/ssgan.py) and its tasks.
    d.DEFINE_enum("ssg_formulation", "salimans", ["salimans", "separate"],
                  "Discriminator: K class logits whose logsumexp is the real/fake logit "
                  "(Salimans et al. 2016), or K class logits plus a separate real/fake logit.")
    d.DEFINE_float("ssg_supervised_weight", 1.0, "Weight of the discriminator's cross-entropy "
                   "on the labeled images.")
    d.DEFINE_float("ssg_class_weight", 1.0, "Weight of the generator's AC-GAN term (the "
                   "discriminator should classify G(z, c) as c).")
    d.DEFINE_bool("ssg_feature_matching", False, "Generator matches the discriminator's mean "
                  "features instead of the non-saturating adversarial loss.")
    d.DEFINE_integer("ssg_mix_classes", 2, "Labeled classes mixed into each generated class's "
                     "code (1: tasks made only of labeled classes).")


class _Definer:
    """`flags.DEFINE_*` bound to one FlagValues (tests use their own)."""

    def __init__(self, flag_values):
        self._flag_values = flag_values

    def __getattr__(self, name):
        define = getattr(flags, name)
        return lambda *args, **kwargs: define(*args, flag_values=self._flag_values, **kwargs)


@dataclasses.dataclass(frozen=True)
class Config:
    dataset: str
    data_dir: str
    omniglot_split: str
    preset: str
    learner: str
    method: str
    seed: int
    label_scheme: str
    label_fraction: float
    n_way: int
    train_n_way: int
    k_shot: int
    train_query: int
    eval_query: int
    meta_batch: int
    iterations: int
    meta_lr: float
    inner_lr: float
    inner_steps: int
    val_inner_lr: float
    val_inner_steps: int
    test_inner_lr: float
    test_inner_steps: int
    first_order: bool
    clip_norm: float
    batch_norm: str
    num_val_tasks: int
    num_test_tasks: int
    val_every: int
    log_every: int
    image_every: int
    checkpoint_every: int
    output_dir: str
    eval_checkpoint: str
    distribute: str
    xla: bool
    deterministic: bool
    lasium: str
    lasium_sigma: float
    lasium_ro_alpha: float
    lasium_oc_alpha: float
    lasium_anchor_epsilon: float
    lasium_anchor_support: bool
    mix: str
    labeled_share: float
    labeled_share_start: float
    mix_block: int
    generated_weight: float
    labeled_query_augmentation: bool
    query_augmentation: bool
    query_shift: str
    query_shift_max: float
    gan_data: str
    gan_dir: str
    gan_epochs: int
    gan_batch_size: int
    gan_lr: float
    gan_label_noise: float
    gan_diversity_weight: float
    gan_checkpoint_every: int
    gan_precision: str
    ssg_formulation: str
    ssg_supervised_weight: float
    ssg_class_weight: float
    ssg_feature_matching: bool
    ssg_mix_classes: int

    def __post_init__(self):
        check = [
            (self.n_way >= 2 and self.train_n_way >= 2, "--n_way and --train_n_way must be "
             "at least 2."),
            (self.train_n_way == self.n_way or self.learner == "protonets",
             f"--train_n_way={self.train_n_way} differs from --n_way={self.n_way}: MAML's "
             "classifier head has --n_way outputs, so only --learner=protonets can train on "
             "other ways than it is tested on."),
            (self.k_shot >= 1, "--k_shot must be at least 1."),
            (self.train_query >= 1 and self.eval_query >= 1, "query sizes must be at least 1."),
            (self.meta_batch >= 1, "--meta_batch must be at least 1."),
            (self.iterations >= 0, "--iterations must be >= 0."),
            (0.0 <= self.label_fraction <= 1.0, "--label_fraction must lie in [0, 1]."),
            (self.clip_norm >= 0, "--clip_norm must be >= 0 (0 turns clipping off)."),
            (min(self.val_every, self.log_every, self.checkpoint_every, self.image_every) >= 1,
             "--val_every, --log_every, --image_every and --checkpoint_every must be >= 1."),
            (self.num_test_tasks >= 1 and self.num_val_tasks >= 1,
             "--num_val_tasks and --num_test_tasks must be >= 1."),
            (self.gan_epochs >= 0, "--gan_epochs must be >= 0 (0: the untrained generator)."),
            (self.gan_batch_size >= 1 and self.gan_checkpoint_every >= 1,
             "--gan_batch_size and --gan_checkpoint_every must be >= 1."),
            (self.method != "lasium" or self.label_fraction == 0.0,
             "--method=lasium uses no labels: pass --label_fraction=0 (the GAN trains on the "
             "unlabeled pool, all training images at 0)."),
            (self.method not in ("labeled_only", "ssml_ssg") or self.label_fraction > 0.0,
             f"--method={self.method} needs labels: pass --label_fraction > 0."),
            (self.ssg_mix_classes >= 1, "--ssg_mix_classes must be >= 1."),
            (self.generated_weight >= 0, "--generated_weight must be >= 0."),
            (self.query_shift_max > 0, "--query_shift_max must be > 0."),
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
        """The flags' values, with the preset's values for flags not given."""
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
        if values["output_dir"] is None:
            values["output_dir"] = default_output_dir(values)
        return cls(**values)


def mixes_streams(method: str, label_fraction: float) -> bool:
    """Whether a run merges labeled and generated tasks by --mix (where no label exists, a
    mixing method is LASIUM)."""
    return method in MIXING_METHODS and label_fraction > 0


def unused_fields(v) -> set:
    """Names of the Config fields that the run of config values `v` never reads: any value
    of them computes the same (labeled_only ignores --mix, say)."""
    mixing = mixes_streams(v["method"], v["label_fraction"])

    def read(field):
        if field.startswith(("lasium", "gan_")) or field == "query_augmentation":
            return v["method"] in GENERATED_METHODS
        if field in ("mix", "labeled_share"):
            return mixing
        if field == "labeled_share_start":
            return mixing and v.get("mix") == "schedule"
        if field == "mix_block":
            return mixing and v.get("mix") == "alternate"
        if field == "generated_weight":
            return mixing and v.get("mix") == "batch"
        if field.startswith("ssg_"):
            return v["method"] == "ssml_ssg"
        if field.startswith("query_shift"):
            return any(shifts(v))
        if field in INNER_LOOP_FIELDS:
            return v.get("learner", "maml") == "maml"
        return True

    return {f.name for f in dataclasses.fields(Config) if not read(f.name)}


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
    method = v["method"] + (f"-{v['lasium']}" if v["method"] in GENERATED_METHODS else "")
    if v["method"] in MIXING_METHODS:
        method += "-" + mix_name(v).replace(" ", "")
    if v["method"] in GENERATED_METHODS:
        method += f"_gan{v['gan_epochs']}" + ("bf16" if v["gan_precision"] != "float32" else "")
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
    return (f"runs/{v['dataset']}_{method}_{v['n_way']}w{v['k_shot']}s_"
            f"{fraction}_seed{v['seed']}")


def config_from_args(*args: str) -> Config:
    """A Config from command-line style arguments, without touching the global FLAGS."""
    flag_values = flags.FlagValues()
    define_flags(flag_values)
    flag_values(["config", *args])
    return Config.from_flags(flag_values)
