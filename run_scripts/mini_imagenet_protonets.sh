#!/usr/bin/env bash
# Supervised prototypical networks on Mini-ImageNet 5-way 1-shot, as measured on 2 CPU
# cores (results/README.md, Mini-ImageNet): 20-way training episodes, one a step, 20,000
# steps (45.76%; 30,000 gave no more), about 100 minutes on one core. Any flag can be
# overridden (e.g. --iterations).
exec bash "$(dirname "$0")/omniglot_maml.sh" --dataset=mini_imagenet --learner=protonets \
  --train_n_way=20 --meta_batch=1 --iterations=20000 "$@"
