#!/usr/bin/env bash
# The label-fraction study on Omniglot 5-way 1-shot: labeled-only vs SSML (and LASIUM at
# fraction 0) for every label scheme, fraction and seed; cells with results are skipped,
# so rerunning resumes; SSML cells are named by their mix, so another mix adds its own:
#   bash run_scripts/omniglot_sweep.sh --schemes=classes --seeds=0 -- --mix=schedule
# Then: python -m run_scripts.plot_results results/omniglot/sweep/*.json
source "$(dirname "$0")/_env.sh" "$@"
exec python -m run_scripts.sweep --dataset=omniglot "$@"
