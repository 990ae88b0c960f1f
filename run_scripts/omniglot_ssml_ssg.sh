#!/usr/bin/env bash
# SSML-SSG on Omniglot 5-way 1-shot: a semi-supervised class-conditional GAN trained on all
# training images and the labels of 5% of the training classes; its tasks (class codes
# plus LASIUM latents) mixed with the labeled tasks as in omniglot_ssml.sh (generated
# first, labeled last). Any flag can be overridden:
#   bash run_scripts/omniglot_ssml_ssg.sh --label_fraction=0.2 --ssg_formulation=separate
source "$(dirname "$0")/_env.sh" "$@"
exec python -m run_scripts.train --dataset=omniglot --method=ssml_ssg --label_scheme=classes \
  --label_fraction=0.05 --mix=schedule --labeled_share_start=0 --labeled_share=1 "$@"
