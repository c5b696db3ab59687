"""Fixtures shared by the engine's unit tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from emulator.ner import Model, Project, train_project
from fixtures.public_corpora import ABSENT_REASON, shared_data_dir
from fixtures.sample_project import build_project

# No per-example deadline: these machines are shared and noisy, and a slow example is not a wrong one.
settings.register_profile("cner", deadline=None)
settings.load_profile("cner")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Microsoft's loan sample and WNUT-17 in Azure format; tests using them skip where they are absent."""
    found = shared_data_dir()
    if found is None:
        pytest.skip(ABSENT_REASON)
    return found


@pytest.fixture(scope="session")
def small_sample() -> Project:
    """Forty generated invoices: enough to learn every category, quick to train."""
    return build_project(documents=40)


@pytest.fixture(scope="session")
def sample_model(small_sample: Project) -> Model:
    return train_project(small_sample, "TestModel").model
