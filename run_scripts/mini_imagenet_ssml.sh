#!/usr/bin/env bash
# SSML on Mini-ImageNet 5-way 1-shot: labeled tasks from 10% of the training classes, mixed
# with LASIUM tasks from a GAN trained (or reused) on all training images.
# Any flag can be overridden: bash run_scripts/mini_imagenet_ssml.sh --label_fraction=0.2 --mix=alternate
source "$(dirname "$0")/_env.sh" "$@"
exec python -m run_scripts.train --dataset=mini_imagenet --method=ssml --label_scheme=classes \
  --label_fraction=0.1 --mix=batch --labeled_share=0.5 "$@"
