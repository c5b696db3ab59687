"""What the container and load benchmarks start: an emulated cloud in this process with the sample model
published, and our image in Docker at Microsoft's documented size for 1 core (``--cpus 1 --memory 4g``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from emulator.cloud.app import close_app, create_app
from emulator.cloud.client import AuthoringClient
from emulator.cloud.resource import CloudConfig
from emulator.launcher.docker_launcher import DockerContainer, docker_client
from emulator.launcher.image import build_image, repo_root
from emulator.quickstart import LOCAL_KEY, container_settings, publish_sample
from emulator.web.ports import free_port
from emulator.web.server import BackgroundServer
from fixtures.sample_project import write_project

QUIET = "Logging:Console:LogLevel:Default=Warning"
"""The container logs warnings only: a log line per request would be measured as serving time."""


@contextmanager
def sample_cloud(root: Path) -> Iterator[str]:
    """The emulated cloud's URL, the sample project trained, deployed and exported through it."""
    app = create_app(CloudConfig(root / "cloud", (LOCAL_KEY,), retry_after=0.05))
    try:
        with BackgroundServer(app) as cloud:
            publish_sample(AuthoringClient(cloud.url, LOCAL_KEY), write_project(root / "project"), lambda _: None)
            yield cloud.url
    finally:
        close_app(app)


def docker_container(cloud_url: str, root: Path, cpuset: str | None = None) -> DockerContainer:
    """Our image (built if its sources changed) at ``--cpus 1 --memory 4g`` on host networking, not started."""
    image = build_image(docker_client(), project_root=repo_root(), say=lambda _: None)
    return DockerContainer(
        image,
        [*container_settings(cloud_url, None), QUIET],
        model_path=root / "docker-models",
        output_path=root / "docker-output",
        cpus=1,
        memory="4g",
        cpuset=cpuset,
        port=free_port(),
        host_network=True,
    )
