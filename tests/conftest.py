"""Fixtures shared by the engine's unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings

from emulator.cloud.app import close_app, create_app
from emulator.cloud.resource import CloudConfig
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


# The emulated cloud ---------------------------------------------------------------------------------

CLOUD_KEYS = ("test-key-1", "test-key-2")


@pytest.fixture
def cloud_config(tmp_path: Path) -> CloudConfig:
    """An S-tier resource with two keys over a fresh data folder; polls are told to come back in 0.05 s."""
    return CloudConfig(tmp_path / "cloud", CLOUD_KEYS, tier="S", retry_after=0.05)


@pytest.fixture
def cloud_app(cloud_config: CloudConfig) -> Iterator[Flask]:
    app = create_app(cloud_config)
    yield app
    close_app(app)


def keyed_client(app: Flask) -> FlaskClient:
    """A test client of ``app`` that sends the first key with every request (override ``headers=`` to test auth)."""
    test_client = app.test_client()
    test_client.environ_base["HTTP_OCP_APIM_SUBSCRIPTION_KEY"] = CLOUD_KEYS[0]
    return test_client


@pytest.fixture
def client(cloud_app: Flask) -> FlaskClient:
    return keyed_client(cloud_app)
