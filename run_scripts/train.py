"""Meta-train, test and write results: `python -m run_scripts.train --flag=value ...`.

Every flag is listed by `python -m run_scripts.train --helpfull`."""
from absl import app, logging

from infra.entry_point import run_main
from meta import config as config_lib
from meta import trainer
from meta.process import restart_with_onednn

config_lib.define_flags()


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unknown arguments: {argv[1:]} (flags look like --name=value).")
    config = config_lib.Config.from_flags()
    if config.method in config_lib.GENERATED_METHODS:
        restart_with_onednn("run_scripts.train")
    logging.info("Output folder: %s", config.output_dir)
    trainer.run(config)


if __name__ == "__main__":
    run_main(main)
