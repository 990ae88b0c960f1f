#!/usr/bin/env bash
# SSML-SSG on Mini-ImageNet 5-way 1-shot: a semi-supervised class-conditional GAN trained on all
# training images and the labels of 10% of the training classes; its tasks (class codes
# plus LASIUM latents) mixed with the labeled tasks. Any flag can be overridden:
#   bash run_scripts/mini_imagenet_ssml_ssg.sh --label_fraction=0.2 --ssg_formulation=separate
source "$(dirname "$0")/_env.sh" "$@"
exec python -m run_scripts.train --dataset=mini_imagenet --method=ssml_ssg --label_scheme=classes \
  --label_fraction=0.1 --mix=batch --labeled_share=0.5 "$@"
