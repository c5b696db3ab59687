"""The container's metering against the emulated cloud over HTTP: reading the Billing endpoint's answers, the
durable usage spool, reporting rounds, and the serving gate (docs/billing-protocol.md, azure-contract.md §3.4)."""

from __future__ import annotations

import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from azure.ai.textanalytics._policies import QuotaExceededPolicy
from azure.core.exceptions import HttpResponseError
from flask import Flask
from flask.testing import FlaskClient

from emulator.cloud.app import close_app, create_app
from emulator.cloud.resource import CloudConfig
from emulator.container.billing_client import (
    REFUSED,
    BillingClient,
    BillingStatus,
    ContainerIdentity,
)
from emulator.container.gate import BillingGate
from emulator.container.metering import Meter
from emulator.container.outbound import Outbound
from emulator.container.usage_spool import UsageSpool
from emulator.web.errors import UNAUTHORIZED_MESSAGE
from emulator.web.ports import free_port
from emulator.web.server import BackgroundServer

from .conftest import CLOUD_KEYS, keyed_client

IDENTITY = ContainerIdentity("1.0.0", "cner-test-1", "Invoices", "v1")
ZERO = {"TextRecords": 0, "Transactions": 0}


@dataclass(frozen=True)
class Cloud:
    """A served resource and an in-process client of its control plane and ledger."""

    url: str
    control: FlaskClient

    def client(
        self, key: str = CLOUD_KEYS[0], identity: ContainerIdentity = IDENTITY, timeout: float = 5
    ) -> BillingClient:
        return BillingClient(Outbound(self.url, key, timeout=timeout), identity)

    def override(self, status: str, retry_after: int | None = None) -> None:
        body: dict[str, Any] = {"status": status}
        if retry_after is not None:
            body["retryAfter"] = retry_after
        assert self.control.put("/_emulator/billing/status", json=body).status_code == 200

    def clear_override(self) -> None:
        assert self.control.delete("/_emulator/billing/status").status_code == 204

    def fault(self, **rule: Any) -> None:
        assert self.control.post("/_emulator/faults", json={"method": "POST", **rule}).status_code == 201

    def ledger(self, month: str | None = None) -> dict[str, Any]:
        response = self.control.get("/metering/v1/usage", query_string={"month": month} if month else None)
        assert response.status_code == 200
        body: dict[str, Any] = response.json  # type: ignore[assignment]
        return body

    def metering_requests(self) -> int:
        body: dict[str, Any] = self.control.get("/_emulator/journal?path=/metering/*&method=POST").json  # type: ignore[assignment]
        return len(body["value"])


def serve(app: Flask) -> Iterator[Cloud]:
    with BackgroundServer(app) as server:
        yield Cloud(server.url, keyed_client(app))


@pytest.fixture
def cloud(cloud_app: Flask) -> Iterator[Cloud]:
    yield from serve(cloud_app)


@pytest.fixture
def f0_cloud(cloud_config: CloudConfig) -> Iterator[Cloud]:
    app = create_app(replace(cloud_config, tier="F0"))
    try:
        yield from serve(app)
    finally:
        close_app(app)


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[UsageSpool]:
    opened = UsageSpool(tmp_path / "output" / "metering" / "usage.sqlite3")
    yield opened
    opened.close()


def wait_for(condition: Callable[[], bool], seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.02)


# reading the answers -----------------------------------------------------------------------------------------


def test_a_valid_key_is_valid_and_brings_the_endpoints_clock(cloud: Cloud) -> None:
    answer = cloud.client().check()
    assert (answer.status, answer.http_status, answer.retry_after) == (BillingStatus.VALID, 200, None)
    assert answer.message
    assert answer.endpoint_now is not None
    assert abs(answer.endpoint_now - datetime.now(UTC)) < timedelta(seconds=5)


def test_a_wrong_key_is_invalid_and_never_shows_up_in_the_message(cloud: Cloud) -> None:
    answer = cloud.client(key="not-the-key-42").check()
    assert (answer.status, answer.http_status) == (BillingStatus.INVALID, 401)
    assert answer.message == UNAUTHORIZED_MESSAGE
    assert BillingStatus.INVALID in REFUSED


def test_another_kind_of_container_is_a_mismatch_for_checks_and_reports(cloud: Cloud) -> None:
    client = cloud.client(identity=replace(IDENTITY, container_type="sentiment"))
    answer = client.check()
    assert (answer.status, answer.http_status) == (BillingStatus.MISMATCH, 403)
    assert "sentiment" in answer.message
    reported, acknowledged = client.report([client.record("TextRecords", 3)])
    assert (reported.status, acknowledged) == (BillingStatus.MISMATCH, set())
    assert cloud.ledger()["totals"] == ZERO


@pytest.mark.parametrize(
    ("status", "check_http", "report_http", "recorded"),
    [
        ("Valid", 200, 200, True),
        ("Invalid", 401, 401, False),
        ("Mismatch", 403, 403, False),
        ("OutOfQuota", 403, 200, True),
        ("BillingEndpointBusy", 503, 503, False),
        ("ContainerUseUnauthorized", 403, 403, False),
        ("Unknown", 500, 500, False),
        ("CouldNotConnect", None, None, False),
    ],
)
def test_each_overridden_status_is_read_as_that_status(
    cloud: Cloud, status: str, check_http: int | None, report_http: int | None, recorded: bool
) -> None:
    cloud.override(status)
    client = cloud.client()
    answer = client.check()
    assert (answer.status, answer.http_status) == (BillingStatus(status), check_http)
    record = client.record("TextRecords", 7)
    reported, acknowledged = client.report([record])
    assert (reported.status, reported.http_status) == (BillingStatus(status), report_http)
    assert acknowledged == ({record["id"]} if recorded else set())
    assert cloud.ledger()["totals"]["TextRecords"] == (7 if recorded else 0)


def test_an_unreachable_endpoint_is_could_not_connect(cloud: Cloud) -> None:
    client = BillingClient(Outbound(f"http://127.0.0.1:{free_port()}", CLOUD_KEYS[0], timeout=2), IDENTITY)
    answer = client.check()
    assert (answer.status, answer.http_status) == (BillingStatus.COULD_NOT_CONNECT, None)
    assert "no answer" in answer.message


def test_retry_after_is_read_from_status_bodies_and_from_bare_429s(cloud: Cloud) -> None:
    cloud.override("BillingEndpointBusy", retry_after=30)
    assert cloud.client().check().retry_after == 30.0
    cloud.clear_override()
    cloud.fault(path="/metering/v1/status", status=429, retryAfter=7, times=1)
    answer = cloud.client().check()
    assert (answer.status, answer.http_status, answer.retry_after) == (BillingStatus.BUSY, 429, 7.0)


@pytest.mark.parametrize(("http", "logged"), [(400, True), (404, False), (504, False)])
def test_other_answers_are_unknown_and_request_errors_are_logged_without_the_key(
    cloud: Cloud, caplog: pytest.LogCaptureFixture, http: int, logged: bool
) -> None:
    cloud.fault(path="/metering/v1/status", status=http, message="the body was bad", times=1)
    with caplog.at_level(logging.INFO):
        answer = cloud.client().check()
    assert (answer.status, answer.http_status) == (BillingStatus.UNKNOWN, http)
    assert "the body was bad" in answer.message
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert bool(errors) == logged
    assert all("the body was bad" in message for message in errors)
    assert CLOUD_KEYS[0] not in caplog.text


def test_records_are_stamped_with_the_endpoints_clock(cloud: Cloud) -> None:
    client = cloud.client()
    assert abs(client.endpoint_time() - datetime.now(UTC)) < timedelta(seconds=5)  # no answer yet: local clock
    assert cloud.control.put("/_emulator/clock", json={"offsetSeconds": 40 * 86_400}).status_code == 200
    client.check()
    ahead = datetime.now(UTC) + timedelta(days=40)
    assert abs(client.endpoint_time() - ahead) < timedelta(seconds=5)
    record = client.record("Transactions", 2)
    assert set(record) == {"id", "containerType", "containerVersion", "containerId", "meter", "requestTime", "apiType"}
    assert record["meter"] == {"name": "Transactions", "quantity": 2}
    assert record["requestTime"].endswith("Z")
    assert record["requestTime"][:7] == ahead.strftime("%Y-%m")
    assert client.record("Transactions", 2)["id"] != record["id"]


# the spool ---------------------------------------------------------------------------------------------------


def test_seal_sums_counts_per_meter_and_month_and_skips_zeros(spool: UsageSpool, cloud: Cloud) -> None:
    make = cloud.client().record
    spool.count(3, 1, "2026-01-31T23:58:00Z")
    spool.count(2, 1, "2026-01-31T23:59:00Z")
    spool.count(4, 1, "2026-02-01T00:01:00Z")
    spool.count(0, 1, "2026-02-01T00:02:00Z")
    assert spool.pending() == {"TextRecords": 9, "Transactions": 4}
    records = spool.seal(make)
    assert [(r["meter"]["name"], r["meter"]["quantity"], r["requestTime"]) for r in records] == [
        ("TextRecords", 5, "2026-01-31T23:59:00Z"),
        ("Transactions", 2, "2026-01-31T23:59:00Z"),
        ("TextRecords", 4, "2026-02-01T00:02:00Z"),
        ("Transactions", 2, "2026-02-01T00:02:00Z"),
    ]
    assert spool.pending() == {"TextRecords": 9, "Transactions": 4}  # sealed is still pending
    assert spool.seal(make) == records  # nothing new: the same records again
    assert spool.seal(make, limit=1) == records[:1]
    spool.acknowledge([records[0]["id"], records[3]["id"], "unknown-id"])
    assert spool.pending() == {"TextRecords": 4, "Transactions": 2}
    spool.count(0, 0, "2026-02-01T00:03:00Z")
    assert spool.seal(make) == [records[1], records[2]]


def test_a_sum_above_the_endpoints_limit_is_split(spool: UsageSpool, cloud: Cloud) -> None:
    spool.count(20_000_005, 1, "2026-02-01T00:00:00Z")  # the endpoint takes at most 10,000,000 a record
    quantities = [
        r["meter"]["quantity"] for r in spool.seal(cloud.client().record) if r["meter"]["name"] == "TextRecords"
    ]
    assert quantities == [10_000_000, 10_000_000, 5]


def test_counts_from_many_threads_are_all_kept(spool: UsageSpool) -> None:
    def work() -> None:
        for _ in range(200):
            spool.count(2, 1, "2026-02-01T00:00:00Z")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert spool.pending() == {"TextRecords": 1600, "Transactions": 800}


def test_the_spool_survives_reopening_with_the_same_record_ids(tmp_path: Path, cloud: Cloud) -> None:
    path = tmp_path / "usage.sqlite3"
    first = UsageSpool(path)  # never closed: the process "crashes" with it open
    first.count(6, 1, "2026-02-01T00:00:00Z")
    sealed = first.seal(cloud.client().record)
    first.count(1, 1, "2026-02-01T00:05:00Z")
    second = UsageSpool(path)
    try:
        assert second.pending() == {"TextRecords": 7, "Transactions": 2}
        again = second.seal(cloud.client().record)
        assert again[:2] == sealed  # same ids, same content: the endpoint counts a re-sent record once
        assert len(again) == 4
        second.acknowledge(r["id"] for r in again)
        assert first.pending() == ZERO
    finally:
        second.close()
        first.close()


def test_counted_and_sealed_usage_survives_kill_9(tmp_path: Path, cloud: Cloud) -> None:
    path = tmp_path / "usage.sqlite3"
    script = f"""
import json, os, signal, sys, uuid
from pathlib import Path
from emulator.container.usage_spool import UsageSpool
spool = UsageSpool(Path({str(path)!r}))
for _ in range(50):
    spool.count(2, 1, "2026-02-01T00:00:00Z")
sealed = spool.seal(lambda meter, quantity: {{"id": str(uuid.uuid4()), "meter": {{meter: quantity}}}})
print(json.dumps(sealed), flush=True)
spool.count(3, 1, "2026-02-01T00:01:00Z")
os.kill(os.getpid(), signal.SIGKILL)
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=Path(__file__).parents[1]
    )
    assert done.returncode == -signal.SIGKILL, done.stderr
    sealed = json.loads(done.stdout)
    reopened = UsageSpool(path)
    try:
        assert reopened.pending() == {"TextRecords": 103, "Transactions": 51}
        assert reopened.seal(cloud.client().record)[:2] == sealed
    finally:
        reopened.close()


# reporting ---------------------------------------------------------------------------------------------------


def make_meter(cloud: Cloud, spool: UsageSpool, *, interval: float = 60, timeout: float = 5) -> Meter:
    return Meter(cloud.client(timeout=timeout), spool, BillingGate(3, interval), interval)


def test_counted_usage_is_reported_once_into_the_ledger(cloud: Cloud, spool: UsageSpool) -> None:
    meter = make_meter(cloud, spool)
    for text_records in (3, 5, 1):
        meter.count(text_records, 1)
    answer = meter.tick()
    assert answer.status == BillingStatus.VALID
    ledger = cloud.ledger()
    assert ledger["totals"] == {"TextRecords": 9, "Transactions": 3}
    assert sorted((m["meter"], m["records"]) for m in ledger["meters"]) == [("TextRecords", 1), ("Transactions", 1)]
    assert spool.pending() == ZERO
    assert meter.tick().status == BillingStatus.VALID  # nothing left: a key check
    assert cloud.ledger()["totals"] == {"TextRecords": 9, "Transactions": 3}


def test_a_backlog_above_one_batch_is_reported_in_one_round(cloud: Cloud, spool: UsageSpool) -> None:
    client = cloud.client()
    for month in range(60):  # counts of 60 months: 120 records, more than a batch of 100
        spool.count(1, 1, f"{2020 + month // 12}-{month % 12 + 1:02d}-01T00:00:00Z")
    Meter(client, spool, BillingGate(3, 60), 60).tick()
    assert spool.pending() == ZERO


@pytest.mark.parametrize(
    "fault",
    [
        {"drop": True},  # the report is lost on the way: nothing recorded
        {"latencyMs": 1000},  # recorded, but the answer comes after the container gave up waiting
    ],
)
def test_a_report_without_answer_is_resent_with_the_same_ids_and_counted_once(
    cloud: Cloud, spool: UsageSpool, fault: dict[str, Any]
) -> None:
    meter = make_meter(cloud, spool, timeout=0.4)
    meter.count(4, 1)
    meter.count(2, 1)
    cloud.fault(path="/metering/v1/usage", times=1, **fault)
    assert meter.tick().status == BillingStatus.COULD_NOT_CONNECT
    assert spool.pending() == {"TextRecords": 6, "Transactions": 2}
    if "latencyMs" in fault:
        wait_for(lambda: cloud.ledger()["totals"]["TextRecords"] == 6)
    assert meter.tick().status == BillingStatus.VALID
    assert spool.pending() == ZERO
    ledger = cloud.ledger()
    assert ledger["totals"] == {"TextRecords": 6, "Transactions": 2}
    assert sorted(m["records"] for m in ledger["meters"]) == [1, 1]


def test_close_reports_what_was_counted_and_stops_promptly(cloud: Cloud, spool: UsageSpool) -> None:
    meter = make_meter(cloud, spool, interval=60)
    meter.start()
    meter.count(4, 1)
    started = time.monotonic()
    meter.close()
    assert time.monotonic() - started < 2  # not the 60 s interval
    assert cloud.ledger()["totals"] == {"TextRecords": 4, "Transactions": 1}
    assert cloud.metering_requests() == 1


def test_close_without_flush_reports_nothing(cloud: Cloud, spool: UsageSpool) -> None:
    meter = make_meter(cloud, spool, interval=60)
    meter.start()
    meter.count(4, 1)
    meter.close(flush=False)
    assert cloud.metering_requests() == 0
    assert spool.pending() == {"TextRecords": 4, "Transactions": 1}


def test_the_background_rounds_wait_out_a_longer_retry_after(cloud: Cloud, spool: UsageSpool) -> None:
    cloud.override("BillingEndpointBusy", retry_after=1)
    meter = make_meter(cloud, spool, interval=0.05)
    meter.start()
    try:
        wait_for(lambda: cloud.metering_requests() == 1)
        time.sleep(0.5)  # ten intervals, half the Retry-After
        assert cloud.metering_requests() == 1
        wait_for(lambda: cloud.metering_requests() == 2, seconds=3)
    finally:
        meter.close(flush=False)


def test_the_background_rounds_end_once_the_gate_stopped(cloud: Cloud, spool: UsageSpool) -> None:
    cloud.override("CouldNotConnect")
    gate = BillingGate(2, 0.05)
    meter = Meter(cloud.client(), spool, gate, 0.05)
    meter.start()
    try:
        wait_for(lambda: gate.stopped)
        time.sleep(0.3)
        assert cloud.metering_requests() == 2
    finally:
        meter.close(flush=False)


def test_a_round_that_fails_counts_as_a_failed_attempt(
    cloud: Cloud, spool: UsageSpool, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken_disk(*_: object, **__: object) -> list[dict[str, Any]]:
        raise OSError(28, "No space left on device")

    gate = BillingGate(2, 0.05)
    meter = Meter(cloud.client(), spool, gate, 0.05)
    assert meter.tick().status is BillingStatus.VALID
    monkeypatch.setattr(spool, "seal", broken_disk)
    answer = meter.tick()
    assert answer.status is BillingStatus.UNKNOWN
    assert "No space left on device" in answer.message
    assert not gate.serving
    meter.tick()
    assert gate.stopped  # billing that cannot be done ends serving like billing that cannot be reached


# the gate ----------------------------------------------------------------------------------------------------


def test_the_gate_serves_pauses_resumes_and_stops_for_good(cloud: Cloud, spool: UsageSpool) -> None:
    gate = BillingGate(3, 0.05)
    meter = Meter(cloud.client(), spool, gate, 0.05)

    refusal = gate.refusal()
    assert refusal is not None
    assert (refusal.status, refusal.code, refusal.retry_after) == (503, "ServiceUnavailable", 1.0)
    assert "not been verified" in refusal.message
    assert gate.snapshot()["apiStatus"] == "NotChecked"
    assert gate.snapshot()["lastCheckedDateTime"] is None
    assert (gate.status, gate.serving, gate.stopped) == (None, False, False)

    meter.tick()
    assert (gate.serving, gate.status, gate.refusal()) == (True, BillingStatus.VALID, None)

    for attempt, status in enumerate(["CouldNotConnect", "BillingEndpointBusy"], start=1):
        cloud.override(status)
        meter.tick()
        refusal = gate.refusal()
        assert refusal is not None
        assert (refusal.status, refusal.code) == (503, "ServiceUnavailable")
        assert refusal.retry_after is not None
        assert status in refusal.message
        assert f"attempt {attempt} of 3" in refusal.message
        assert "resumes" in refusal.message
        assert (gate.serving, gate.failed_attempts) == (False, attempt)

    cloud.clear_override()
    meter.tick()
    assert (gate.serving, gate.failed_attempts, gate.refusal()) == (True, 0, None)

    cloud.override("Unknown")
    for _ in range(3):
        meter.tick()
    cloud.clear_override()
    meter.tick()  # the endpoint is back, but a stopped container stays stopped
    assert (gate.serving, gate.stopped, gate.status) == (False, True, BillingStatus.UNKNOWN)
    refusal = gate.refusal()
    assert refusal is not None
    assert (refusal.status, refusal.retry_after) == (503, None)
    assert "3 failed attempts" in refusal.message
    assert "restart" in refusal.message
    snapshot = gate.snapshot()
    assert {k: snapshot[k] for k in ("apiStatus", "serving", "stopped", "failedAttempts", "maxFailedAttempts")} == {
        "apiStatus": "Unknown",
        "serving": False,
        "stopped": True,
        "failedAttempts": 3,
        "maxFailedAttempts": 3,
    }
    assert datetime.fromisoformat(snapshot["lastCheckedDateTime"]) <= datetime.now(UTC)


def test_only_consecutive_failures_count_towards_stopping(cloud: Cloud, spool: UsageSpool) -> None:
    gate = BillingGate(2, 0.05)
    meter = Meter(cloud.client(), spool, gate, 0.05)
    for status in ["CouldNotConnect", "ContainerUseUnauthorized", "CouldNotConnect"]:
        cloud.override(status)
        meter.tick()
    assert (gate.stopped, gate.failed_attempts) == (False, 1)


def test_the_503_retry_after_is_when_the_next_check_comes(cloud: Cloud, spool: UsageSpool) -> None:
    cloud.override("BillingEndpointBusy", retry_after=30)
    for interval, expected in [(0.05, 30.0), (600, 600.0)]:
        gate = BillingGate(3, interval)
        Meter(cloud.client(), spool, gate, interval).tick()
        refusal = gate.refusal()
        assert refusal is not None
        assert refusal.retry_after == expected


@pytest.mark.parametrize("status", ["Invalid", "Mismatch", "ContainerUseUnauthorized"])
def test_a_refused_container_answers_403_naming_the_status(cloud: Cloud, spool: UsageSpool, status: str) -> None:
    cloud.override(status)
    gate = BillingGate(3, 0.05)
    Meter(cloud.client(), spool, gate, 0.05).tick()
    refusal = gate.refusal()
    assert refusal is not None
    assert (refusal.status, refusal.code) == (403, "Forbidden")
    assert status in refusal.message
    assert gate.failed_attempts == 0
    assert gate.snapshot()["apiStatusMessage"] in refusal.message


def test_an_f0_resource_out_of_quota_refuses_with_the_sdks_phrase(f0_cloud: Cloud, spool: UsageSpool) -> None:
    gate = BillingGate(3, 0.05)
    meter = Meter(f0_cloud.client(), spool, gate, 0.05)
    meter.count(4999, 1)
    assert meter.tick().status == BillingStatus.VALID
    meter.count(1, 1)
    answer = meter.tick()
    assert (answer.status, answer.http_status) == (BillingStatus.OUT_OF_QUOTA, 200)  # usage served is recorded
    assert spool.pending() == ZERO
    assert f0_cloud.ledger()["totals"] == {"TextRecords": 5000, "Transactions": 2}
    check = meter.tick()
    assert (check.status, check.http_status) == (BillingStatus.OUT_OF_QUOTA, 403)
    assert check.retry_after is not None
    assert check.retry_after > 0
    refusal = gate.refusal()
    assert refusal is not None
    assert (refusal.status, refusal.code, refusal.retry_after) == (403, "QuotaExceeded", check.retry_after)
    assert "Out of call volume quota for TextAnalytics F0 pricing tier" in refusal.message
    assert "5000" in refusal.message  # the endpoint's own message
    assert gate.failed_attempts == 0
    sdk_view = SimpleNamespace(status_code=refusal.status, reason="Forbidden", text=lambda: json.dumps(refusal.body()))
    with pytest.raises(HttpResponseError, match="QuotaExceeded"):
        QuotaExceededPolicy().on_response(None, SimpleNamespace(http_response=sdk_view))  # type: ignore[no-untyped-call]
