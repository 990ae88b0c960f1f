#!/usr/bin/env bash
# SSML on Omniglot 5-way 1-shot: labeled tasks from 5% of the training classes, mixed
# with LASIUM tasks from a GAN trained (or reused) on all training images.
# Any flag can be overridden: bash run_scripts/omniglot_ssml.sh --label_fraction=0.1 --mix=alternate
source "$(dirname "$0")/_env.sh" "$@"
exec python -m run_scripts.train --dataset=omniglot --method=ssml --label_scheme=classes \
  --label_fraction=0.05 --mix=batch --labeled_share=0.5 "$@"
