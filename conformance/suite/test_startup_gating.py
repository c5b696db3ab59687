"""Start-up gating: a container missing a required setting, or holding a key its Billing endpoint refuses, must
not serve; one that downloads its model must not claim readiness before the model is there (azure-contract §3).

These clauses start containers of their own, of the target's kind (``Target.launch``), with the target's
settings altered (``conformance.launching``).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from conformance.client import JobsClient
from conformance.documents import INVOICE
from conformance.launching import changed, launched, observe
from conformance.targets import READY_TIMEOUT, EmbeddedCloud, Launched, Target
from emulator.container.process import answers_ready

WATCH = 4.0
"""Seconds a gated container that keeps running is watched: ours exits within a second, a container that
ignored the gap would answer /ready within the few seconds its model download takes."""
POLL = 0.1
READY_PROBE = 2.0
"""Seconds one /ready probe may take: a gated container that is slow to say anything is not ready."""
WRONG_KEY = "conformance-wrong-key-00000000000000"
MODEL_FILES = "/_emulator/models/*"
"""The emulated blob storage's exported-model files, where a manifest's contentUri points
(emulator/cloud/storage/routes.py)."""
DOWNLOAD_DELAY = 2.0
"""Seconds the first model file is held back: long against a container's start-up polls at ``POLL``."""


def not_serving(target: Target, container: Launched) -> str:
    """Fail if ``container`` serves: it must exit, or stay running for ``WATCH`` seconds without answering
    /ready 200 and then refuse a job (any answer but 202, or no connection). A job that gets no answer at all
    fails too (``TargetTimeoutError``): a gated container must say no, not hang. Returns what was seen."""
    deadline = time.monotonic() + WATCH
    while time.monotonic() < deadline:
        status = container.returncode
        if status is not None:
            return f"exited with status {status}"
        url = container.url
        ready = url is not None and answers_ready(url, timeout=READY_PROBE)
        assert not ready, f"/ready answered 200; its last log lines:\n{container.tail()}"
        time.sleep(POLL)
    url = container.url
    if url is None:
        return f"running for {WATCH:g} s without listening"
    client = JobsClient(url, target.project, target.deployment)
    try:
        answer = client.submit(client.body(INVOICE), timeout=5)
    except requests.ConnectionError:
        return f"running for {WATCH:g} s, not accepting connections"
    finally:
        client.close()
    assert answer.status_code != 202, f"a job was accepted; its last log lines:\n{container.tail()}"
    return f"running for {WATCH:g} s, /ready never 200, a job refused with {answer.status_code}"


@pytest.mark.clause("gating/required-settings")
@pytest.mark.parametrize(
    ("key", "value"),
    [
        pytest.param("Eula", None, id="no-Eula"),
        pytest.param("Eula", "decline", id="Eula-not-accept"),
        pytest.param("Billing", None, id="no-Billing"),
        pytest.param("ApiKey", None, id="no-ApiKey"),
        pytest.param("projectName", None, id="no-projectName"),
        pytest.param("exportedModelName", None, id="no-exportedModelName"),
    ],
)
def test_a_missing_or_wrong_setting_keeps_the_container_from_serving(
    conformance_target: Target,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    key: str,
    value: str | None,
) -> None:
    with launched(conformance_target, changed(conformance_target.settings, key, value), tmp_path) as container:
        observe(request, not_serving(conformance_target, container))


@pytest.mark.clause("gating/wrong-key")
def test_a_key_the_billing_endpoint_refuses_keeps_the_container_from_serving(
    conformance_target: Target, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = changed(conformance_target.settings, "ApiKey", WRONG_KEY)
    with launched(conformance_target, settings, tmp_path) as container:
        observe(request, not_serving(conformance_target, container))


def _cloud(target: Target) -> EmbeddedCloud:
    if target.cloud is None:
        pytest.skip("needs the embedded emulated cloud to slow the model download (not with --billing)")
    return target.cloud


@pytest.mark.clause("gating/ready-after-model")
def test_ready_answers_200_only_once_the_model_is_downloaded(
    conformance_target: Target, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The first model file is held back ``DOWNLOAD_DELAY`` s by a fault rule, so a container that claims
    readiness before its model is in place answers /ready 200 sooner than that after its launch."""
    cloud = _cloud(conformance_target)
    rule = cloud.add_fault(method="GET", path=MODEL_FILES, latencyMs=DOWNLOAD_DELAY * 1000, times=1)
    try:
        with launched(conformance_target, conformance_target.settings, tmp_path) as container:
            started = time.monotonic()
            not_ready = 0
            while not ((url := container.url) and answers_ready(url, timeout=READY_PROBE)):
                assert container.returncode is None, f"the container exited; its last log lines:\n{container.tail()}"
                assert time.monotonic() - started < READY_TIMEOUT, f"not ready within {READY_TIMEOUT:g} s"
                not_ready += 1
                time.sleep(POLL)
            ready_after = time.monotonic() - started
            journal = cloud.journal("GET", MODEL_FILES)
            assert any(entry["fault"] == rule for entry in journal), (
                f"the container did not download its model from {MODEL_FILES}: the check proves nothing"
            )
            observed = f"/ready not 200 for {ready_after:.2f} s ({not_ready} polls), then 200"
            observe(request, observed)
            assert ready_after >= DOWNLOAD_DELAY, f"{observed}: sooner than the {DOWNLOAD_DELAY:g} s download"
            client = JobsClient(url, conformance_target.project, conformance_target.deployment)
            try:
                job = client.run(client.body(INVOICE))
            finally:
                client.close()
            assert job["status"] == "succeeded", job
    finally:
        cloud.clear_faults()
