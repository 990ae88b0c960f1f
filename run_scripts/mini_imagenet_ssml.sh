#!/usr/bin/env bash
# The Omniglot script of the same name, on Mini-ImageNet, with 10% of the classes labeled
# and the mix measured there (results/README.md): generated tasks first, labeled ones last,
# meta-batches of 4, no shifted query images (not yet measured on Mini-ImageNet).
exec bash "$(dirname "$0")/omniglot_ssml.sh" --dataset=mini_imagenet --label_fraction=0.1 \
  --mix=schedule --labeled_share_start=0 --labeled_share=1 --meta_batch=4 --generated_weight=1 \
  --noquery_augmentation --nolabeled_query_augmentation "$@"
