"""Fixtures shared by the test files (helpers to import are in util.py; test files never
import each other)."""
import pytest

import util
from infra import cpu
from meta import builders


@pytest.fixture
def fake_gan(monkeypatch):
    """Runs get util.FakeGAN where they would train or load a GAN."""
    monkeypatch.setattr(builders, "train_or_load_gan", lambda *args: util.FakeGAN())


@pytest.fixture(autouse=True)
def cpu_without_bfloat16(monkeypatch):
    """--gan_precision=auto follows the CPU; tests see the same CPU on every machine
    (tests of auto itself patch it again)."""
    monkeypatch.setattr(cpu, "native_bfloat16", lambda: False)
