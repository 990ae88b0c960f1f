import dataclasses

import pytest
from absl import flags

from infra import cpu
from infra.cpu import native_bfloat16  # the function itself: conftest patches cpu's
from meta import config as config_lib
from meta.config import Config, config_from_args


def test_every_setting_is_one_flag_with_its_declared_help_and_bounds():
    flag_values = flags.FlagValues()
    config_lib.define_flags(flag_values)
    for field in dataclasses.fields(Config):
        assert flag_values[field.name].default == field.default
        assert field.metadata["help"] in flag_values[field.name].help
    assert flag_values["n_way"].help == "Classes per task. (>= 2)"
    assert flag_values["learner"].parser.enum_values == ["maml", "protonets"]
    assert flag_values["label_fraction"].help.endswith("(>= 0, <= 1)")


@pytest.mark.parametrize("flag, message", [
    ("--label_fraction=nan", "--label_fraction=nan is out of range: it must be >= 0 and <= 1"),
    ("--label_fraction=1.5", "--label_fraction=1.5 is out of range"),
    ("--meta_batch=0", "--meta_batch=0 is out of range: it must be >= 1"),
    ("--query_shift_max=0", "--query_shift_max=0.0 is out of range: it must be > 0")])
def test_values_out_of_their_declared_bounds_are_refused(flag, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        config_from_args(flag)


def test_field_metadata_says_what_a_resume_and_a_sweep_may_ignore():
    assert {"iterations", "num_test_tasks", "output_dir"} <= config_lib.resumable_fields()
    assert "inner_lr" not in config_lib.resumable_fields()
    assert config_lib.bookkeeping_fields() >= {"output_dir", "gan_dir", "log_every"}
    labeled = dataclasses.asdict(config_from_args("--method=labeled_only",
                                                  "--label_fraction=0.1"))
    assert {"mix", "gan_epochs", "lasium_sigma", "ssg_mix_classes"} <= \
        config_lib.unused_fields(labeled)
    assert "inner_lr" not in config_lib.unused_fields(labeled)
    protonets = dataclasses.asdict(config_from_args("--learner=protonets"))
    assert {"inner_lr", "test_inner_steps", "first_order"} <= \
        config_lib.unused_fields(protonets)


def test_auto_gan_precision_is_bfloat16_only_where_the_cpu_computes_it(monkeypatch, tmp_path):
    lasium = ("--method=lasium", "--label_fraction=0")
    assert config_from_args(*lasium).gan_precision == "float32"  # conftest: no bfloat16
    monkeypatch.setattr(cpu, "native_bfloat16", lambda: True)
    c = config_from_args(*lasium)
    epochs = config_lib.GENERATED_CPU_PRESETS["omniglot"]["gan_epochs"]
    assert c.gan_precision == "mixed_bfloat16" and f"_gan{epochs}bf16_" in c.output_dir
    assert config_from_args(*lasium, "--gan_precision=float32").gan_precision == "float32"
    # The CPU's flags, as /proc/cpuinfo lists them per core.
    for flags_line, native in (("fpu avx2 avx512f", False), ("fpu avx512f avx512_bf16", True),
                               ("fpu amx_bf16 amx_tile", True)):
        info = tmp_path / f"cpuinfo{native}{len(flags_line)}"
        info.write_text(f"processor\t: 0\nmodel name\t: X\nflags\t\t: {flags_line}\n\n"
                        f"processor\t: 1\nmodel name\t: X\nflags\t\t: {flags_line}\n")
        assert cpu.cpu_model(str(info)) == "X x2" and native_bfloat16(str(info)) == native
