"""Train (or extend) the GAN of a configuration and cache it, without meta-training:

    python -m run_scripts.train_gan --dataset=omniglot --gan_epochs=30 [--seed=...]

It takes the same flags as `run_scripts.train`: the data set, seed, --gan_data and label
budget decide the images it trains on, so a later run with the same flags reuses it.
"""
from absl import app

from infra.entry_point import run_main
from meta import builders
from meta import config as config_lib
from meta.process import restart_with_onednn, set_determinism

config_lib.define_flags()


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unknown arguments: {argv[1:]} (flags look like --name=value).")
    restart_with_onednn("run_scripts.train_gan")
    c = config_lib.Config.from_flags()
    set_determinism(c)
    train = builders.load_database(c).train
    builders.train_or_load_run_gan(c, train, builders.labeled_images(c, train))


if __name__ == "__main__":
    run_main(main)
