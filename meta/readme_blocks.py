"""Tables kept in markdown files: the scripts that make a table (report, plot_results,
label_budgets, task_difficulty, gan_epoch_curve) can also put it between `<!-- name -->` and
`<!-- /name -->` in a README, so that the numbers there always come from a script."""
import re

from absl import flags

from infra.atomic_io import write_text_atomic


def define_readme_flags(block: str) -> None:
    """--readme and --block of the scripts that write a table into a README block."""
    flags.DEFINE_string("readme", None, "Also put the table in a block of this markdown file.")
    flags.DEFINE_string("block", block, "Name of that block (<!-- name --> ... <!-- /name -->).")


def replace_block(path: str, name: str, text: str) -> None:
    """Replace the text between `<!-- name -->` and `<!-- /name -->` in a markdown file."""
    with open(path) as f:
        readme = f.read()
    block = re.compile(rf"(<!-- {name} -->\n).*?(<!-- /{name} -->)", re.S)
    if not block.search(readme):
        raise ValueError(f"{path} has no <!-- {name} --> block.")
    write_text_atomic(path, block.sub(lambda m: m.group(1) + text + "\n" + m.group(2), readme))
