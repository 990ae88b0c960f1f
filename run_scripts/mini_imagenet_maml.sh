#!/usr/bin/env bash
# Supervised MAML on Mini-ImageNet 5-way 1-shot with every training label (the baseline).
# Any flag can be overridden: bash run_scripts/mini_imagenet_maml.sh --iterations=200 --seed=1
source "$(dirname "$0")/_env.sh" "$@"
exec python -m run_scripts.train --dataset=mini_imagenet --method=maml \
  --label_scheme=classes --label_fraction=1.0 "$@"
