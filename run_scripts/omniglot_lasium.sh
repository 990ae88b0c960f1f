#!/usr/bin/env bash
# Unsupervised LASIUM on Omniglot 5-way 1-shot: train (or reuse) a GAN on all training
# images, meta-train MAML on generated tasks only, test on the real test characters.
# The defaults are LASIUM's own Omniglot recipe: LASIUM-N (sigma 0.5) with the anchor's
# image as the support, anchors at squared distance > 246.09375, query images shifted by
# whole pixels in [-5, 5). Pick another sampler with --lasium=ro|oc; any flag can be
# overridden.
source "$(dirname "$0")/_env.sh" "$@"
exec python -m run_scripts.train --dataset=omniglot --method=lasium --label_fraction=0 "$@"
