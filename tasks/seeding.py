"""Derived seeds: one `--seed` gives independent streams for each purpose.

Every random choice in a run (data split, label subset, training tasks, validation
tasks, test tasks, weight init) draws from its own stream, named by a purpose string.
So the validation and test tasks never depend on how far training has advanced, and
adding a new random consumer does not shift the others.
"""
import hashlib


def derive_seed(seed: int, purpose: str) -> int:
    """A 31-bit seed that depends only on (seed, purpose)."""
    digest = hashlib.sha256(f"{int(seed)}/{purpose}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF
