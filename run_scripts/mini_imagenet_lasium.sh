#!/usr/bin/env bash
# Unsupervised LASIUM on Mini-ImageNet 5-way 1-shot: train (or reuse) a GAN on all training
# images, meta-train MAML on generated tasks only, test on the real test classes.
# Pick the sampler with --lasium=ro|n|oc; any other flag can be overridden too.
source "$(dirname "$0")/_env.sh" "$@"
exec python -m run_scripts.train --dataset=mini_imagenet --method=lasium --label_fraction=0 "$@"
