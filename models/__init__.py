"""Keras models: meta-learned classifiers (and, later, GANs)."""
