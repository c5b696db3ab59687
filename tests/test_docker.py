"""Our image in real containers, started by the docker-py launcher as ``docker run`` starts Microsoft's:
limits, gating, readiness, Microsoft's SDK, restarts, and usage that survives ``docker kill``.

Containers use host networking (they reach the emulated cloud on 127.0.0.1) on free ports, except where a
test checks the published port.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
import requests
from azure.ai.textanalytics import TextAnalyticsClient
from azure.core.credentials import AzureKeyCredential

from emulator.container.model_source import provide_model
from emulator.container.outbound import Outbound
from emulator.launcher.docker_launcher import DockerContainer, DockerLaunchError
from emulator.web.ports import free_port

from .conftest import PublishedCloud, docker_required

pytestmark = docker_required

INVOICE = (
    "Contoso Ltd · 12 Harbour Road, 98101 Seattle, USA 🧾\n\nInvoice no. RE-10442 dated 2024-03-01: total EUR 1,250.00."
)
JOBS = "/language/analyze-text/jobs?api-version=2023-04-01"


def _settings(cloud: PublishedCloud, *extra: str, **changes: str | None) -> list[str]:
    """Microsoft's documented spelling of the arguments (EULA, BILLING, APIKEY)."""
    values: dict[str, str | None] = {
        "EULA": "accept",
        "BILLING": cloud.url,
        "APIKEY": cloud.key,
        "projectName": cloud.project,
        "exportedModelName": cloud.exported_model,
    }
    values.update(changes)
    return [f"{k}={v}" for k, v in values.items() if v is not None] + list(extra)


def _launch(
    image: str, cloud: PublishedCloud, root: Path, *extra: str, memory: str = "4g", **changes: str | None
) -> DockerContainer:
    return DockerContainer(
        image,
        _settings(cloud, *extra, **changes),
        model_path=root / "models",
        output_path=root / "output",
        cpus=1,
        memory=memory,
        port=free_port(),
        host_network=True,
    )


@pytest.fixture
def model_in_mount(published_cloud: PublishedCloud, tmp_path: Path) -> Path:
    """The exported model already in the folder to mount, as a previous run leaves it."""
    provide_model(
        tmp_path / "models",
        published_cloud.project,
        published_cloud.exported_model,
        Outbound(published_cloud.url, published_cloud.key),
        log=logging.getLogger("test"),
    )
    return tmp_path


def _ledger(cloud: PublishedCloud) -> int:
    answer = requests.get(
        f"{cloud.url}/metering/v1/usage", headers={"Ocp-Apim-Subscription-Key": cloud.key}, timeout=10
    )
    return int(answer.json()["totals"].get("Transactions", 0))


def _body(text: str = INVOICE) -> dict[str, Any]:
    return {
        "analysisInput": {"documents": [{"id": "1", "text": text, "language": "en"}]},
        "tasks": [
            {
                "kind": "CustomEntityRecognition",
                "taskName": "t",
                "parameters": {"projectName": "SampleInvoices", "deploymentName": "production"},
            }
        ],
    }


def test_limits_reach_the_engine_and_the_server_sizes_itself_from_the_quota(
    container_image: str, published_cloud: PublishedCloud, model_in_mount: Path
) -> None:
    with _launch(container_image, published_cloud, model_in_mount) as container:
        container.wait_ready(30)
        host_config = container.client.api.inspect_container(container.name)["HostConfig"]
        assert host_config["NanoCpus"] == 1_000_000_000
        assert host_config["Memory"] == 4 * 1024**3
        assert "; 1 prediction workers" in "\n".join(container.lines)  # the host has more cores than the quota
        assert container.client.api.inspect_container(container.name)["Config"]["User"] == "cner"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"EULA": None}, "Eula is missing"),
        ({"EULA": "decline"}, "set Eula=accept"),
        ({"BILLING": None}, "Billing is missing"),
        ({"APIKEY": None}, "ApiKey is missing"),
        ({"projectName": None}, "projectName is missing"),
        ({"exportedModelName": None}, "exportedModelName is missing"),
        ({"APIKEY": "wrong-key"}, "ApiKey is refused by the Billing endpoint"),
    ],
)
def test_a_missing_or_wrong_setting_ends_the_container_with_its_name_in_the_log(
    container_image: str, published_cloud: PublishedCloud, tmp_path: Path, changes: dict[str, str | None], named: str
) -> None:
    container = _launch(container_image, published_cloud, tmp_path, **changes)
    with container, pytest.raises(DockerLaunchError, match="exited with status 1") as failed:
        container.wait_ready(30)
    assert named in str(failed.value)
    assert "wrong-key" not in str(failed.value)


def test_the_port_is_published_on_loopback_only(
    container_image: str, published_cloud: PublishedCloud, tmp_path: Path
) -> None:
    container = DockerContainer(container_image, ["Eula=accept"], model_path=tmp_path / "m", port=free_port())
    with container:
        container.wait_exit(30)
        bindings = container.client.api.inspect_container(container.name)["HostConfig"]["PortBindings"]
        assert bindings == {"5000/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(container.port)}]}


def test_ready_within_10_s_with_the_model_in_the_mount_and_the_sdk_works(
    container_image: str, published_cloud: PublishedCloud, model_in_mount: Path
) -> None:
    container = _launch(container_image, published_cloud, model_in_mount)
    started = time.monotonic()
    with container:
        url = container.wait_ready(10)
        ready_after = time.monotonic() - started
        for version in ("2022-05-01", "2023-04-01"):
            client = TextAnalyticsClient(url, AzureKeyCredential("unused"), api_version=version)
            poller = client.begin_recognize_custom_entities(
                [INVOICE],
                project_name=published_cloud.project,
                deployment_name=published_cloud.deployment,
                polling_interval=0.1,
            )
            (result,) = poller.result()
            assert result.entities
            for entity in result.entities:
                assert INVOICE[entity.offset : entity.offset + entity.length] == entity.text
    assert ready_after < 10


def test_2g_of_memory_is_enough_and_the_model_folder_is_reused_on_restart(
    container_image: str, published_cloud: PublishedCloud, tmp_path: Path
) -> None:
    with _launch(container_image, published_cloud, tmp_path, memory="2g") as first:
        first.wait_ready(60)
        assert "downloaded model.crfsuite" in "\n".join(first.lines)
        assert requests.post(f"{first.url}{JOBS}", json=_body(), timeout=10).status_code == 202
    with _launch(container_image, published_cloud, tmp_path, memory="2g") as second:
        second.wait_ready(30)
        assert "loaded from /modelPath" in "\n".join(second.lines)
        assert "downloading" not in "\n".join(second.lines)


def test_docker_kill_under_load_loses_no_counted_usage(
    container_image: str, published_cloud: PublishedCloud, model_in_mount: Path
) -> None:
    before = _ledger(published_cloud)
    served: list[str] = []
    container = _launch(container_image, published_cloud, model_in_mount, "Metering:ReportIntervalSeconds=3600")
    stop = threading.Event()

    def client() -> None:
        session = requests.Session()
        while not stop.is_set():
            try:
                location = session.post(f"{container.url}{JOBS}", json=_body(), timeout=5).headers["Operation-Location"]
                if session.get(location, timeout=5).json()["status"] == "succeeded":
                    served.append(location)
            except (requests.RequestException, KeyError, ValueError):
                return

    with container:
        container.wait_ready(30)
        threads = [threading.Thread(target=client) for _ in range(3)]
        for thread in threads:
            thread.start()
        while len(served) < 20:
            time.sleep(0.01)
        container.kill()  # mid-load: clients are submitting and polling
        stop.set()
        for thread in threads:
            thread.join()
    assert _ledger(published_cloud) == before  # nothing reported before the kill (the interval is an hour)
    with _launch(container_image, published_cloud, model_in_mount) as restarted:
        restarted.wait_ready(30)  # start-up reports what the spool kept
    after = _ledger(published_cloud) - before
    assert len(served) <= after  # every job a client saw succeed was counted (some may have ended unseen)


@pytest.fixture(autouse=True)
def _no_leftover_containers(container_image: str) -> Iterator[None]:
    yield
    leftovers = docker.from_env().containers.list(all=True, filters={"label": "cner.launcher"})
    assert not leftovers, [c.name for c in leftovers]
