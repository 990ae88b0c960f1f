#!/usr/bin/env bash
# The Omniglot script of the same name, on Mini-ImageNet, with 10% of the classes labeled.
exec bash "$(dirname "$0")/omniglot_ssml_ssg.sh" --dataset=mini_imagenet --label_fraction=0.1 "$@"
