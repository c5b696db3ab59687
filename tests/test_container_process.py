"""The container as a real process (``python -m emulator container``): start-up gating, billing outages,
and usage that survives ``kill -9``."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from emulator.container.process import ContainerProcess, ContainerStartError

from .conftest import PublishedCloud

INVOICE = "Invoice INV-2024-0117 from Contoso Supplies Ltd, Seattle. Total due: 1,250.00 EUR by 2 April 2024."
JOBS = "/language/analyze-text/jobs?api-version=2023-04-01"


def _settings(cloud: PublishedCloud, root: Path, *extra: str, **changes: str | None) -> list[str]:
    values: dict[str, str | None] = {
        "Eula": "accept",
        "Billing": cloud.url,
        "ApiKey": cloud.key,
        "projectName": cloud.project,
        "exportedModelName": cloud.exported_model,
        "Mounts:Output": str(root / "output"),
    }
    values.update(changes)
    return [f"{k}={v}" for k, v in values.items() if v is not None] + list(extra)


def _exit_of(arguments: list[str], root: Path) -> tuple[int, str, float]:
    """Run the container to its exit; its status, its output and how long it took."""
    command = [sys.executable, "-m", "emulator", "container", "--port", "0", "--model-path", str(root / "models")]
    started = time.monotonic()
    done = subprocess.run([*command, *arguments], capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"Eula": None}, "Eula is missing"),
        ({"Eula": "decline"}, "set Eula=accept"),
        ({"Billing": None}, "Billing is missing"),
        ({"Billing": "not-a-url"}, "Billing='not-a-url' is not an endpoint URL"),
        ({"ApiKey": None}, "ApiKey is missing"),
        ({"projectName": None}, "projectName is missing"),
        ({"projectName": "../etc"}, "projectName='../etc' is not a valid name"),
        ({"exportedModelName": None}, "exportedModelName is missing"),
    ],
)
def test_a_missing_or_wrong_setting_stops_start_up_with_one_line(
    published_cloud: PublishedCloud, tmp_path: Path, changes: dict[str, str | None], named: str
) -> None:
    status, output, _ = _exit_of(_settings(published_cloud, tmp_path, **changes), tmp_path)
    assert status != 0
    assert named in output
    assert "Traceback" not in output
    assert published_cloud.key not in output


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"ApiKey": "wrong-key"}, "ApiKey is refused by the Billing endpoint"),
        ({"exportedModelName": "NoSuchModel"}, "exportedModelName"),
    ],
)
def test_the_billing_endpoint_refuses_the_key_or_model(
    published_cloud: PublishedCloud, tmp_path: Path, changes: dict[str, str], named: str
) -> None:
    status, output, _ = _exit_of(_settings(published_cloud, tmp_path, **changes), tmp_path)
    assert status == 1
    assert named in output
    assert "wrong-key" not in output


def test_a_billing_url_that_is_not_a_language_resource_is_refused(
    published_cloud: PublishedCloud, tmp_path: Path
) -> None:
    status, output, _ = _exit_of(
        _settings(published_cloud, tmp_path, Billing=f"{published_cloud.url}/nothing"), tmp_path
    )
    assert status == 1
    assert "does not serve the metering API" in output


def test_settings_from_the_environment_with_nested_keys(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    env = {
        "EULA": "accept",
        "BILLING": published_cloud.url,
        "APIKEY": published_cloud.key,
        "projectName": published_cloud.project,
        "exportedModelName": published_cloud.exported_model,
        "Mounts__Output": str(tmp_path / "output"),
    }
    with ContainerProcess([], model_path=tmp_path / "models", env=env) as container:
        url = container.wait_ready(60)
        assert requests.get(f"{url}/status", timeout=5).json()["apiStatus"] == "Valid"
    assert (tmp_path / "output" / "metering").is_dir()


# Billing outages ---------------------------------------------------------------------------------------------


def _control(cloud: PublishedCloud, method: str, path: str, body: Any = None) -> None:
    answer = requests.request(
        method, f"{cloud.url}/_emulator{path}", json=body, headers={"Ocp-Apim-Subscription-Key": cloud.key}, timeout=10
    )
    assert answer.status_code in (200, 204), answer.text


@contextmanager
def _outage(cloud: PublishedCloud) -> Iterator[None]:
    _control(cloud, "PUT", "/billing/status", {"status": "CouldNotConnect"})
    try:
        yield
    finally:
        _control(cloud, "DELETE", "/billing/status")


def _submit(url: str) -> requests.Response:
    body = {
        "analysisInput": {"documents": [{"id": "1", "text": INVOICE, "language": "en"}]},
        "tasks": [
            {
                "kind": "CustomEntityRecognition",
                "parameters": {"projectName": "SampleInvoices", "deploymentName": "production"},
            }
        ],
    }
    return requests.post(f"{url}{JOBS}", json=body, timeout=10)


def _until(check: Any, timeout: float = 15.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (result := check()):
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.05)
    return result


def test_an_outage_refuses_queries_until_billing_is_back_then_stops_for_good(
    published_cloud: PublishedCloud, tmp_path: Path
) -> None:
    settings = _settings(
        published_cloud, tmp_path, "Metering:ReportIntervalSeconds=0.5", "Metering:MaxFailedAttempts=8"
    )
    with ContainerProcess(settings, model_path=tmp_path / "models") as container:
        url = container.wait_ready(60)
        assert _submit(url).status_code == 202
        with _outage(published_cloud):
            refused = _until(lambda: [a for a in [_submit(url)] if a.status_code == 503])[0]
            assert refused.json()["error"]["code"] == "ServiceUnavailable"
            assert "CouldNotConnect" in refused.json()["error"]["message"]
            assert requests.get(f"{url}/ready", timeout=5).status_code == 503
            assert requests.get(f"{url}/status", timeout=5).json()["apiStatus"] == "CouldNotConnect"
        _until(lambda: _submit(url).status_code == 202)  # billing is back: serving resumes
        with _outage(published_cloud):
            _until(lambda: requests.get(f"{url}/status", timeout=5).json()["stopped"], timeout=20)
        time.sleep(1.0)  # billing answers again, but the container has stopped for good
        stopped = _submit(url)
        assert stopped.status_code == 503
        assert "for good" in stopped.json()["error"]["message"]
        assert container.returncode is None  # still running, answering probes
        assert requests.get(f"{url}/ready", timeout=5).status_code == 503


# Usage that survives a crash ------------------------------------------------------------------------------------


def _ledger(cloud: PublishedCloud) -> dict[str, int]:
    answer = requests.get(
        f"{cloud.url}/metering/v1/usage", headers={"Ocp-Apim-Subscription-Key": cloud.key}, timeout=10
    )
    assert answer.status_code == 200, answer.text
    return dict(answer.json()["totals"])


def _serve_jobs(url: str, count: int) -> None:
    for _ in range(count):
        location = _submit(url).headers["Operation-Location"]
        _until(lambda loc=location: requests.get(loc, timeout=5).json()["status"] == "succeeded")


def test_usage_counted_before_kill_9_is_reported_after_restart_once(
    published_cloud: PublishedCloud, tmp_path: Path
) -> None:
    settings = _settings(published_cloud, tmp_path, "Metering:ReportIntervalSeconds=3600")
    before = _ledger(published_cloud)
    with ContainerProcess(settings, model_path=tmp_path / "models") as container:
        _serve_jobs(container.wait_ready(60), 7)
        container.kill()
    assert _ledger(published_cloud) == before  # nothing was reported yet: the hour had not passed
    with ContainerProcess(settings, model_path=tmp_path / "models") as container:
        container.wait_ready(60)
        after = _ledger(published_cloud)
    assert after.get("Transactions", 0) - before.get("Transactions", 0) == 7
    assert after.get("TextRecords", 0) - before.get("TextRecords", 0) == 7
    assert _ledger(published_cloud) == after  # the clean stop had nothing more to report


def test_a_clean_stop_reports_what_was_counted(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    settings = _settings(published_cloud, tmp_path, "Metering:ReportIntervalSeconds=3600")
    before = _ledger(published_cloud)
    with ContainerProcess(settings, model_path=tmp_path / "models") as container:
        _serve_jobs(container.wait_ready(60), 3)
        assert container.stop() == 0
    after = _ledger(published_cloud)
    assert after.get("Transactions", 0) - before.get("Transactions", 0) == 3


def test_billing_unreachable_at_start_follows_the_outage_rules(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    settings = _settings(published_cloud, tmp_path, "Metering:ReportIntervalSeconds=0.3")
    with ContainerProcess(settings, model_path=tmp_path / "models") as container:
        container.wait_ready(60)  # the model is now in the model folder
    with _outage(published_cloud), ContainerProcess(settings, model_path=tmp_path / "models") as container:
        with pytest.raises(ContainerStartError, match="not ready within"):
            container.wait_ready(3)
        status = requests.get(f"{container.url}/status", timeout=5)
        assert (status.status_code, status.json()["apiStatus"]) == (503, "CouldNotConnect")
        assert "loaded from" in "\n".join(container.lines)  # the local model needs no endpoint
        _control(published_cloud, "DELETE", "/billing/status")  # billing is back
        container.wait_ready(10)


def test_a_busy_port_is_one_line(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        command = [sys.executable, "-m", "emulator", "container", "--port", str(port), "--model-path", str(tmp_path)]
        done = subprocess.run(
            [*command, *_settings(published_cloud, tmp_path)], capture_output=True, text=True, timeout=60, check=False
        )
    assert done.returncode == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use" in done.stderr
    assert "Now listening on" not in done.stderr
    assert "Traceback" not in done.stderr
