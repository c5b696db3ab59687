"""Fixtures shared by the engine's unit tests."""

from __future__ import annotations

import gc
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors
import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import settings

from emulator.cloud.app import close_app, create_app
from emulator.cloud.client import AuthoringClient
from emulator.cloud.resource import CloudConfig
from emulator.container.app import create_container_app
from emulator.container.runtime import ContainerRuntime
from emulator.container.settings import Settings, read_settings, required_settings
from emulator.launcher.image import build_image, repo_root
from emulator.ner import Model, Project, train_project
from emulator.quickstart import SAMPLE_DEPLOYMENT, SAMPLE_MODEL_LABEL, publish_sample
from emulator.web.server import BackgroundServer
from fixtures.public_corpora import ABSENT_REASON, shared_data_dir
from fixtures.sample_project import PROJECT_NAME, build_project, write_project

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


@dataclass(frozen=True)
class PublishedCloud:
    """A served S-tier resource whose sample project is trained, deployed and exported (as ``cner up`` leaves it)."""

    url: str
    key: str
    app: Flask
    project: str = PROJECT_NAME
    exported_model: str = SAMPLE_MODEL_LABEL
    deployment: str = SAMPLE_DEPLOYMENT


@pytest.fixture(scope="session")
def published_cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PublishedCloud]:
    """The emulated cloud over HTTP with the sample (60 invoices) published; shared by the container tests,
    which must not change its projects (they may use the control plane on the ``app``, and reset what they set).
    """
    root = tmp_path_factory.mktemp("published")
    project_file = write_project(root / "project", documents=60)
    app = create_app(CloudConfig(root / "cloud", CLOUD_KEYS, tier="S", retry_after=0.05))
    try:
        with BackgroundServer(app) as server:
            publish_sample(AuthoringClient(server.url, CLOUD_KEYS[0]), project_file, lambda _: None)
            yield PublishedCloud(server.url, CLOUD_KEYS[0], app)
    finally:
        close_app(app)


# The container ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunningContainer:
    """Our container served over HTTP in this process, against ``published_cloud``."""

    url: str
    runtime: ContainerRuntime
    app: Flask


def container_settings(cloud: PublishedCloud, root: Path, *extra: str) -> Settings:
    """The settings of a container of ``cloud``'s sample, model and output folders under ``root``."""
    return read_settings(
        [
            *required_settings(cloud.url, cloud.key, cloud.project, cloud.exported_model),
            f"Mounts:Output={root / 'output'}",
            *extra,
        ],
        {},
        model_path=root / "models",
    )


@contextmanager
def running_container(settings: Settings) -> Iterator[RunningContainer]:
    """Start a container with ``settings`` and wait until it serves (or fail the test with its reason)."""
    runtime = ContainerRuntime(settings, container_id="test-container")
    app = create_container_app(runtime)
    try:
        with BackgroundServer(app, ident="cner-container") as server:
            runtime.start()
            deadline = time.monotonic() + 60
            while runtime.refusal() is not None:
                assert not runtime.fatal.is_set(), runtime.failure
                assert time.monotonic() < deadline, runtime.refusal()
                time.sleep(0.02)
            yield RunningContainer(server.url, runtime, app)
    finally:
        runtime.close()


@pytest.fixture(scope="module")
def container(published_cloud: PublishedCloud, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningContainer]:
    """A serving container shared by a test module (tests must not stop or reconfigure it)."""
    with running_container(container_settings(published_cloud, tmp_path_factory.mktemp("container"))) as running:
        yield running


# Docker ------------------------------------------------------------------------------------------------------


def _docker_unavailable() -> str | None:
    """Why no Docker engine can be used here, or None. ``make test`` starts one where it can (as root).

    A refused connection leaves docker-py's socket to the garbage collector; it is collected here, with its
    ResourceWarning ignored, so it cannot surface later as an error in whichever test runs then.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        try:
            client = docker.from_env()
            try:
                client.ping()
            finally:
                client.close()
        except (docker.errors.DockerException, OSError) as exc:
            return f"no Docker engine answers here ({exc}); scripts/ensure-docker starts one when run as root"
        finally:
            gc.collect()
    return None


DOCKER_UNAVAILABLE = _docker_unavailable()
docker_required = pytest.mark.skipif(DOCKER_UNAVAILABLE is not None, reason=DOCKER_UNAVAILABLE or "")


@pytest.fixture(scope="session")
def docker_client() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture(scope="session")
def container_image(docker_client: docker.DockerClient) -> str:
    """Our image built from this checkout (reused if an image of the same sources exists): its reference."""
    return build_image(docker_client, project_root=repo_root(), say=lambda _: None)
