"""Fixtures shared by the test files (helpers to import are in util.py; test files never
import each other)."""
import pytest

import util
from meta import builders


@pytest.fixture
def fake_gan(monkeypatch):
    """Runs get util.FakeGAN where they would train or load a GAN."""
    monkeypatch.setattr(builders, "train_or_load_gan", lambda *args: util.FakeGAN())
