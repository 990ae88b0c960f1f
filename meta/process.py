"""Process set-up of the programs that train: TensorFlow's CPU kernels (oneDNN) and
deterministic ops. Both must be settled before any work: oneDNN when TensorFlow loads,
determinism before the first op."""
import os
import sys

import tensorflow as tf
from absl import logging

ONEDNN = "TF_ENABLE_ONEDNN_OPTS"


def restart_with_onednn(module: str):
    """Starts `python -m module` again with the same arguments and oneDNN on, unless the
    environment sets TF_ENABLE_ONEDNN_OPTS either way or there is a GPU.

    TensorFlow decides from the CPU's features whether to use oneDNN, and on this project's
    AVX2 AMD machines it does not; there the GAN's transposed convolutions run about 3x
    slower without it, while MAML's small convolutions run faster without it
    (run_scripts/bench_onednn.py). So the programs that train or sample a GAN ask for it.
    TensorFlow reads the variable once, when it loads: hence a restart, not a setting."""
    if ONEDNN in os.environ or tf.config.list_physical_devices("GPU"):
        return
    logging.info("Restarting with %s=1: the GAN runs faster with oneDNN on this CPU.", ONEDNN)
    os.environ[ONEDNN] = "1"
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", module, *sys.argv[1:]])


def set_determinism(c):
    """Deterministic ops (the default), so that a resumed run or a retrained GAN is exact."""
    if c.deterministic:
        tf.config.experimental.enable_op_determinism()
