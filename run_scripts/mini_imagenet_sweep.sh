#!/usr/bin/env bash
# The label-fraction study on Mini-ImageNet 5-way 1-shot: labeled-only vs SSML (and LASIUM at
# fraction 0) for every label scheme, fraction and seed; cells with results are skipped,
# so rerunning resumes. Then: python -m run_scripts.plot_results results/mini_imagenet/sweep/*.json
#   bash run_scripts/mini_imagenet_sweep.sh --schemes=classes --seeds=0 -- --mix=schedule
source "$(dirname "$0")/_env.sh" "$@"
exec python -m run_scripts.sweep --dataset=mini_imagenet "$@"
