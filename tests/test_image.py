"""Our Docker image, built air-gapped (``emulator.launcher.image``): what it is made of and how it starts.

Needs a Docker engine; the whole module is skipped without one. The image is built once per session (a minute
and a half from nothing where the base must be made with debootstrap, ~7 s when an image of the same sources
exists) by the ``container_image`` fixture.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import docker
import docker.errors
import pytest
from docker.models.containers import Container

from emulator.launcher.image import (
    DEFAULT_MIRROR,
    IMAGE_REPOSITORY,
    SOURCE_HASH_LABEL,
    ImageError,
    base_image,
    build_image,
    build_local_base,
    debian_mirror,
    project_wheels,
    repo_root,
    source_hash,
)

from .conftest import docker_required

pytestmark = docker_required

ENTRYPOINT = ["/opt/cner/bin/cner", "container", "--model-path", "/modelPath"]
SETTINGS = ["Eula=accept", "Billing=http://127.0.0.1:9", "ApiKey=k", "projectName=P", "exportedModelName=M"]
"""Settings that pass every check: with no network the container listens, then finds no Billing endpoint."""


def _run(client: docker.DockerClient, ref: str, entrypoint: list[str], *command: str) -> str:
    """Run a command in the image with no network, its output."""
    output = client.containers.run(ref, list(command), entrypoint=entrypoint, network_mode="none", remove=True)
    assert isinstance(output, bytes)
    return output.decode()


@pytest.fixture
def started(docker_client: docker.DockerClient) -> Iterator[list[Container]]:
    """Containers a test started, removed when it ends."""
    containers: list[Container] = []
    yield containers
    for container in containers:
        container.remove(force=True)


def _wait_for(container: Container, text: str, timeout: float = 30) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = container.logs().decode()
        if text in logs:
            return logs
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not in the container's log within {timeout} s: {container.logs().decode()}")


# The image ---------------------------------------------------------------------------------------------------


def test_runs_as_its_own_user(docker_client: docker.DockerClient, container_image: str) -> None:
    assert _run(docker_client, container_image, ["id", "-u"]).strip() == "10001"
    assert _run(docker_client, container_image, ["id", "-g"]).strip() == "10001"
    assert docker_client.images.get(container_image).attrs["Config"]["User"] == "cner"


def test_its_folders_belong_to_its_user(docker_client: docker.DockerClient, container_image: str) -> None:
    owners = _run(docker_client, container_image, ["stat", "-c", "%n %u:%g"], "/modelPath", "/output")
    assert owners.split("\n")[:2] == ["/modelPath 10001:10001", "/output 10001:10001"]


def test_configuration(docker_client: docker.DockerClient, container_image: str) -> None:
    config = docker_client.images.get(container_image).attrs["Config"]
    assert config["Entrypoint"] == ENTRYPOINT
    assert not config["Cmd"]
    assert config["ExposedPorts"] == {"5000/tcp": {}}
    assert {"ASPNETCORE_URLS=http://+:5000", "PYTHONUNBUFFERED=1"} <= set(config["Env"])
    health = config["Healthcheck"]
    assert health["Test"] == ["CMD", "/opt/cner/bin/python", "-I", "/opt/cner/healthcheck.py"]
    assert (health["Interval"], health["Timeout"], health["StartPeriod"]) == (5e9, 3e9, 60e9)
    labels = config["Labels"]
    assert labels["org.opencontainers.image.title"] == IMAGE_REPOSITORY
    assert labels["org.opencontainers.image.version"] == container_image.rpartition(":")[2]
    assert len(labels[SOURCE_HASH_LABEL]) == 64


def test_cner_runs_offline(docker_client: docker.DockerClient, container_image: str) -> None:
    version = container_image.rpartition(":")[2]
    assert (
        _run(docker_client, container_image, ["/opt/cner/bin/cner", "--version"]).strip() == f"cner, version {version}"
    )
    imported = _run(
        docker_client,
        container_image,
        ["/opt/cner/bin/python", "-c", "import emulator.container.main, emulator.container.app; print('ok')"],
    )
    assert imported.strip() == "ok"


def test_settings_are_arguments_as_with_microsofts(
    docker_client: docker.DockerClient, container_image: str, started: list[Container]
) -> None:
    """`docker run IMAGE Key=value ...`; a wrong setting ends it at once with status 1 naming the setting."""
    container = docker_client.containers.run(container_image, ["Eula=no"], network_mode="none", detach=True)
    started.append(container)
    assert container.wait(timeout=30)["StatusCode"] == 1
    assert "Eula" in container.logs().decode()


def test_a_port_given_first_wins(
    docker_client: docker.DockerClient, container_image: str, started: list[Container]
) -> None:
    container = docker_client.containers.run(
        container_image, ["--port", "5001", *SETTINGS], network_mode="none", detach=True
    )
    started.append(container)
    _wait_for(container, "Now listening on: http://0.0.0.0:5001")


def test_health_check_follows_ready(
    docker_client: docker.DockerClient, container_image: str, started: list[Container]
) -> None:
    """Not ready (no Billing endpoint, no model): the check fails with /ready's 503, at the port ASPNETCORE_URLS
    names; with nothing listening there it fails saying so. Docker takes exit status 1 as unhealthy."""
    waiting = docker_client.containers.run(container_image, SETTINGS, network_mode="none", detach=True)
    moved = docker_client.containers.run(
        container_image, SETTINGS, environment={"ASPNETCORE_URLS": "http://+:5002"}, network_mode="none", detach=True
    )
    elsewhere = docker_client.containers.run(
        container_image, ["--port", "5001", *SETTINGS], network_mode="none", detach=True
    )
    started += [waiting, moved, elsewhere]
    assert _health(waiting, 5000) == (1, "http://127.0.0.1:5000/ready: 503")
    assert _health(moved, 5002) == (1, "http://127.0.0.1:5002/ready: 503")
    assert _health(elsewhere, 5001) == (1, "http://127.0.0.1:5000/ready: no answer ([Errno 111] Connection refused)")


def _health(container: Container, port: int) -> tuple[int, str]:
    """The image's health check run once in ``container``, once it listens on ``port``: status and output."""
    _wait_for(container, f"Now listening on: http://0.0.0.0:{port}")
    code, output = container.exec_run(["/opt/cner/bin/python", "-I", "/opt/cner/healthcheck.py"])
    assert isinstance(code, int)
    assert isinstance(output, bytes)
    return code, output.decode().strip()


# The build ---------------------------------------------------------------------------------------------------


def test_label_is_the_hash_of_its_sources(
    docker_client: docker.DockerClient, container_image: str, tmp_path: Path
) -> None:
    base = base_image(docker_client, None, lambda line: None)
    wheels = project_wheels(repo_root(), tmp_path, lambda line: None)
    expected = source_hash(wheels, repo_root() / "docker", docker_client.images.get(base).id or "")
    assert docker_client.images.get(container_image).labels[SOURCE_HASH_LABEL] == expected


def test_same_sources_reuse_the_image(docker_client: docker.DockerClient, container_image: str) -> None:
    lines: list[str] = []
    started = time.monotonic()
    again = build_image(docker_client, project_root=repo_root(), say=lines.append)
    elapsed = time.monotonic() - started
    assert again == container_image
    assert docker_client.images.get(again).id == docker_client.images.get(container_image).id
    assert any(line.startswith(f"reusing {container_image}") for line in lines)
    assert not any(line.startswith("docker build") for line in lines)
    assert elapsed < 60  # the wheels (~7 s here), no build
    assert docker_client.images.get(f"{IMAGE_REPOSITORY}:latest").id == docker_client.images.get(again).id


def test_a_missing_base_fails_fast(docker_client: docker.DockerClient) -> None:
    started = time.monotonic()
    with pytest.raises(ImageError, match=r"^base image cner-test-no-such-base:never is not on this machine"):
        base_image(docker_client, "cner-test-no-such-base:never", lambda line: None)
    assert time.monotonic() - started < 30


def test_a_malformed_base_is_named(docker_client: docker.DockerClient) -> None:
    with pytest.raises(ImageError, match=r"^Bad Ref! is not an image reference .*repository name must be lowercase"):
        base_image(docker_client, "Bad Ref!", lambda line: None)


def test_the_local_base_needs_root(monkeypatch: pytest.MonkeyPatch, docker_client: docker.DockerClient) -> None:
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(ImageError, match="needs root"):
        build_local_base(docker_client, lambda line: None)


def test_debian_mirror_is_apts(tmp_path: Path) -> None:
    sources = tmp_path / "debian.sources"
    sources.write_text(
        "Types: deb\n"
        "URIs: http://mirror.example/debian-security\n"
        "Suites: bookworm-security\n"
        "\n"
        "# the main archive\n"
        "Types: deb\n"
        "URIs: http://mirror.example/debian/\n"
        "Suites: bookworm\n"
        "  bookworm-updates\n"
        "Components: main\n",
        encoding="utf-8",
    )
    assert debian_mirror(sources) == "http://mirror.example/debian"
    assert debian_mirror(tmp_path / "absent") == DEFAULT_MIRROR
    sources.write_text("Types: deb\nURIs: cdrom:/media/\nSuites: bookworm\n", encoding="utf-8")
    assert debian_mirror(sources) == DEFAULT_MIRROR
