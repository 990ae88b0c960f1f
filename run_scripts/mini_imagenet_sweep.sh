#!/usr/bin/env bash
# The Omniglot script of the same name, on Mini-ImageNet (same flags and defaults).
exec bash "$(dirname "$0")/omniglot_sweep.sh" --dataset=mini_imagenet "$@"
