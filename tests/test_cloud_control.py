"""The control plane (docs/control-plane.md): health, reset, seed, faults, journal, job progression, clock."""

from __future__ import annotations

import http.client
import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from emulator.cloud.control.interceptor import DroppedConnectionError
from emulator.cloud.jobs import JobContext, Progression
from emulator.cloud.resource import Resource
from emulator.web.server import BackgroundServer

from .conftest import CLOUD_KEYS
from .test_cloud_billing import STATUS_BODY, ledger, usage_record

USAGE = "/metering/v1/usage"


def resource_of(app: Flask) -> Resource:
    resource: Resource = app.extensions["cner"]
    return resource


def add_fault(client: FlaskClient, **rule: Any) -> dict[str, Any]:
    response = client.post("/_emulator/faults", json=rule)
    assert response.status_code == 201, response.json
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


def error_of(response: Any) -> dict[str, Any]:
    assert response.json is not None, response.data
    error: dict[str, Any] = response.json["error"]
    return error


# health and auth -----------------------------------------------------------------------------------------


def test_health_needs_no_key_and_tells_version_tier_and_uptime(cloud_app: Flask) -> None:
    response = cloud_app.test_client().get("/_emulator/health")
    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert body["status"] == "running"
    assert body["version"] == "0.1.0"
    assert body["tier"] == "S"
    assert body["uptimeSeconds"] >= 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/_emulator/reset"),
        ("POST", "/_emulator/seed"),
        ("GET", "/_emulator/faults"),
        ("POST", "/_emulator/faults"),
        ("DELETE", "/_emulator/faults"),
        ("GET", "/_emulator/faults/fault-1"),
        ("DELETE", "/_emulator/faults/fault-1"),
        ("GET", "/_emulator/journal"),
        ("DELETE", "/_emulator/journal"),
        ("GET", "/_emulator/billing/status"),
        ("PUT", "/_emulator/billing/status"),
        ("DELETE", "/_emulator/billing/status"),
        ("GET", "/_emulator/jobs/progression"),
        ("PUT", "/_emulator/jobs/progression"),
        ("POST", "/_emulator/jobs/step"),
        ("GET", "/_emulator/clock"),
        ("PUT", "/_emulator/clock"),
    ],
)
def test_every_other_control_route_needs_the_key(cloud_app: Flask, method: str, path: str) -> None:
    for headers in ({}, {"Ocp-Apim-Subscription-Key": "wrong"}):
        response = cloud_app.test_client().open(path, method=method, json={}, headers=headers)
        assert response.status_code == 401
        assert error_of(response)["code"] == "401"


# reset and seed ------------------------------------------------------------------------------------------


def test_reset_forgets_state_faults_journal_override_progression_and_clock(
    cloud_app: Flask, client: FlaskClient
) -> None:
    client.post(USAGE, json=usage_record("r", 4))
    add_fault(client, path="/nowhere", status=500)
    client.put("/_emulator/billing/status", json={"status": "Unknown"})
    client.put("/_emulator/jobs/progression", json={"mode": "manual"})
    client.put("/_emulator/clock", json={"offsetSeconds": 86_400})

    assert client.post("/_emulator/reset").status_code == 204

    resource = resource_of(cloud_app)
    assert ledger(client)["totals"]["TextRecords"] == 0
    assert client.get("/_emulator/faults").json == {"value": []}
    assert client.get("/_emulator/billing/status").json == {"override": None}
    assert resource.jobs.progression == Progression()
    assert resource.clock.offset == timedelta(0)
    journal = client.get("/_emulator/journal").json
    assert journal is not None
    assert [entry["path"] for entry in journal["value"]] == ["/metering/v1/usage"]  # only the ledger read since
    assert cloud_app.test_client().get("/_emulator/health").status_code == 200


def test_a_seed_makes_ids_reproducible(cloud_app: Flask, client: FlaskClient) -> None:
    ids = resource_of(cloud_app).ids
    assert client.post("/_emulator/seed", json={"seed": 42}).json == {"seed": 42}
    first = [ids.uuid() for _ in range(3)]
    client.post("/_emulator/seed", json={"seed": 42})
    assert [ids.uuid() for _ in range(3)] == first
    client.post("/_emulator/seed", json={"seed": 43})
    assert [ids.uuid() for _ in range(3)] != first


@pytest.mark.parametrize("body", [{}, {"seed": "42"}, {"seed": -1}, {"seed": True}, {"seed": 1.5}, {"a": 1}, [42]])
def test_a_bad_seed_is_a_400(client: FlaskClient, body: Any) -> None:
    response = client.post("/_emulator/seed", json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "InvalidRequest"
    assert error["message"]


# faults --------------------------------------------------------------------------------------------------


def test_a_status_fault_answers_with_the_service_error_body_and_retry_after(client: FlaskClient) -> None:
    rule = add_fault(client, method="post", path="/metering/*", status=503, retryAfter=7)
    assert (rule["id"], rule["method"], rule["probability"], rule["fired"]) == ("fault-1", "POST", 1.0, 0)
    response = client.post(USAGE, json=usage_record("f"))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    assert response.headers["x-ms-error-code"] == "ServiceUnavailable"
    assert error_of(response)["code"] == "ServiceUnavailable"
    assert "fault-1" in error_of(response)["message"]
    assert client.get(USAGE).status_code == 200  # GET is out of the rule's scope
    assert client.get("/_emulator/faults/fault-1").json["fired"] == 1  # type: ignore[index]
    assert ledger(client)["totals"]["TextRecords"] == 0


def test_a_fault_can_name_its_error_code_and_message(client: FlaskClient) -> None:
    add_fault(client, path="/metering/v1/status", status=429, errorCode="TooManyRequests", message="slow down")
    response = client.post("/metering/v1/status", json=STATUS_BODY)
    assert response.status_code == 429
    assert error_of(response) == {"code": "TooManyRequests", "message": "slow down"}


def test_faults_hit_requests_before_the_key_check_but_never_the_control_plane(
    cloud_app: Flask, client: FlaskClient
) -> None:
    add_fault(client, path="*", status=500)
    assert cloud_app.test_client().get(USAGE).status_code == 500  # no key, still the fault
    assert client.get("/_emulator/storage/some-container").status_code == 500
    assert client.get("/no/such/path").status_code == 500
    assert cloud_app.test_client().get("/_emulator/health").status_code == 200
    assert client.get("/_emulator/faults").status_code == 200
    assert client.delete("/_emulator/faults").status_code == 204
    assert client.get(USAGE).status_code == 200


def test_a_fault_with_times_fires_that_often_then_disappears(client: FlaskClient) -> None:
    add_fault(client, path=USAGE, status=500, times=2)
    assert [client.get(USAGE).status_code for _ in range(4)] == [500, 500, 200, 200]
    assert client.get("/_emulator/faults").json == {"value": []}


def test_the_first_matching_rule_wins(client: FlaskClient) -> None:
    add_fault(client, path="/metering/v1/*", status=502)
    add_fault(client, path="/metering/*", status=504)
    assert client.get(USAGE).status_code == 502
    assert client.delete("/_emulator/faults/fault-1").status_code == 204
    response = client.get(USAGE)
    assert response.status_code == 504
    assert error_of(response)["code"] == "Timeout"


def test_latency_delays_the_real_answer(client: FlaskClient) -> None:
    add_fault(client, path=USAGE, latencyMs=200)
    started = time.perf_counter()
    response = client.get(USAGE)
    assert time.perf_counter() - started >= 0.2
    assert response.status_code == 200


def test_a_drop_fault_raises_out_of_the_test_client(client: FlaskClient) -> None:
    add_fault(client, path=USAGE, method="POST", drop=True, times=1)
    with pytest.raises(DroppedConnectionError):
        client.post(USAGE, json=usage_record("never"))
    assert client.post(USAGE, json=usage_record("later")).status_code == 200
    assert ledger(client)["totals"]["TextRecords"] == 1


def test_a_drop_fault_is_a_connection_error_over_http(cloud_app: Flask, client: FlaskClient) -> None:
    add_fault(client, path="/metering/*", drop=True, latencyMs=50)
    headers = {"Ocp-Apim-Subscription-Key": CLOUD_KEYS[0]}
    with BackgroundServer(cloud_app) as server:
        host = server.url.removeprefix("http://")
        connection = http.client.HTTPConnection(host, timeout=10)
        connection.request("GET", USAGE, headers=headers)
        with pytest.raises(ConnectionError):
            connection.getresponse()
        connection.close()
        healthy = http.client.HTTPConnection(host, timeout=10)
        healthy.request("GET", "/_emulator/health")
        assert healthy.getresponse().status == 200
        healthy.close()
    journal = client.get("/_emulator/journal").json
    assert journal is not None
    dropped = [entry for entry in journal["value"] if entry["path"] == USAGE]
    assert dropped[0]["dropped"] is True
    assert dropped[0]["status"] is None
    assert dropped[0]["fault"] == "fault-1"


def _pattern(client: FlaskClient, count: int = 40) -> list[int]:
    return [client.get(USAGE).status_code for _ in range(count)]


def test_a_seed_makes_fault_probabilities_reproducible(client: FlaskClient) -> None:
    add_fault(client, path=USAGE, status=500, probability=0.5)
    client.post("/_emulator/seed", json={"seed": 7})
    first = _pattern(client)
    assert set(first) == {200, 500}
    client.post("/_emulator/seed", json={"seed": 7})
    assert _pattern(client) == first

    client.post("/_emulator/reset")
    client.post("/_emulator/seed", json={"seed": 7})
    add_fault(client, path=USAGE, status=500, probability=0.5)  # created after the seed: same sequence
    assert _pattern(client) == first


def test_a_rule_seed_makes_its_draws_independent_of_the_global_seed(client: FlaskClient) -> None:
    add_fault(client, path=USAGE, status=500, probability=0.3, seed=99)
    first = _pattern(client)
    client.delete("/_emulator/faults")
    client.post("/_emulator/seed", json={"seed": 12345})
    add_fault(client, path=USAGE, status=500, probability=0.3, seed=99)
    assert _pattern(client) == first
    assert 0 < first.count(500) < len(first)


@pytest.mark.parametrize(
    ("rule", "target"),
    [
        ({"path": USAGE}, "status"),
        ({"path": USAGE, "latencyMs": 0}, "status"),
        ({"status": 500}, "path"),
        ({"path": "metering", "status": 500}, "path"),
        ({"path": USAGE, "status": 200}, "status"),
        ({"path": USAGE, "status": "500"}, "status"),
        ({"path": USAGE, "status": 500, "drop": True}, "drop"),
        ({"path": USAGE, "drop": "yes"}, "drop"),
        ({"path": USAGE, "status": 500, "probability": 0}, "probability"),
        ({"path": USAGE, "status": 500, "probability": 1.5}, "probability"),
        ({"path": USAGE, "latencyMs": -1}, "latencyMs"),
        ({"path": USAGE, "latencyMs": 10**9}, "latencyMs"),
        ({"path": USAGE, "status": 500, "method": "FETCH"}, "method"),
        ({"path": USAGE, "drop": True, "retryAfter": 3}, "status"),
        ({"path": USAGE, "latencyMs": 5, "errorCode": "X"}, "status"),
        ({"path": USAGE, "status": 500, "times": 0}, "times"),
        ({"path": USAGE, "status": 500, "seed": -5}, "seed"),
        ({"path": USAGE, "status": 500, "fault": "x"}, "fault"),
    ],
)
def test_a_bad_fault_rule_is_a_400_naming_the_field(client: FlaskClient, rule: dict[str, Any], target: str) -> None:
    response = client.post("/_emulator/faults", json=rule)
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "InvalidRequest"
    assert error["target"] == target
    assert client.get("/_emulator/faults").json == {"value": []}


def test_an_unknown_fault_id_is_a_404(client: FlaskClient) -> None:
    assert client.get("/_emulator/faults/fault-9").status_code == 404
    response = client.delete("/_emulator/faults/fault-9")
    assert response.status_code == 404
    assert "fault-9" in error_of(response)["message"]


def test_a_control_body_over_its_limit_is_a_413(client: FlaskClient) -> None:
    response = client.post("/_emulator/faults", json={"path": USAGE, "message": "x" * 20_000, "status": 500})
    assert response.status_code == 413
    assert error_of(response)["message"]


# journal -------------------------------------------------------------------------------------------------


def test_the_journal_records_requests_without_secrets_or_control_calls(cloud_app: Flask, client: FlaskClient) -> None:
    client.post(USAGE, json=usage_record("j"))
    client.get(USAGE + "?month=2026-01&subscription-key=" + CLOUD_KEYS[1] + "&sig=abc")
    cloud_app.test_client().get(USAGE, headers={"Ocp-Apim-Subscription-Key": "guess"})
    client.get("/_emulator/clock")

    response = client.get("/_emulator/journal")
    raw = response.get_data(as_text=True)
    assert CLOUD_KEYS[0] not in raw
    assert CLOUD_KEYS[1] not in raw
    assert "guess" not in raw
    journal = response.json
    assert journal is not None
    assert (journal["capacity"], journal["total"]) == (1000, 3)
    entries = journal["value"]
    assert [(e["method"], e["path"], e["status"], e["keySlot"]) for e in entries] == [
        ("POST", USAGE, 200, "key1"),
        ("GET", USAGE, 200, "key1"),
        ("GET", USAGE, 401, None),
    ]
    assert entries[1]["query"] == "month=2026-01&subscription-key=REDACTED&sig=REDACTED"
    assert all(entry["durationMs"] >= 0 and entry["fault"] is None for entry in entries)
    assert entries[0]["time"].endswith("Z")


def test_the_journal_filters_by_method_and_path(client: FlaskClient) -> None:
    client.post(USAGE, json=usage_record("f"))
    client.get(USAGE)
    client.post("/metering/v1/status", json=STATUS_BODY)
    only_posts = client.get("/_emulator/journal?method=post").json
    assert only_posts is not None
    assert [e["path"] for e in only_posts["value"]] == [USAGE, "/metering/v1/status"]
    usage_only = client.get("/_emulator/journal", query_string={"path": "*/usage"}).json
    assert usage_only is not None
    assert [e["method"] for e in usage_only["value"]] == ["POST", "GET"]


def test_the_journal_keeps_the_last_1000_requests_and_can_be_cleared(client: FlaskClient) -> None:
    for number in range(1005):
        client.get(f"/nowhere/{number}")
    journal = client.get("/_emulator/journal").json
    assert journal is not None
    assert len(journal["value"]) == 1000
    assert journal["total"] == 1005
    assert journal["value"][0]["path"] == "/nowhere/5"
    assert journal["value"][-1]["path"] == "/nowhere/1004"
    assert journal["value"][-1]["status"] == 404
    assert client.delete("/_emulator/journal").status_code == 204
    assert client.get("/_emulator/journal").json == {"value": [], "capacity": 1000, "total": 0}


# job progression -----------------------------------------------------------------------------------------


def test_progression_can_be_read_and_set(cloud_app: Flask, client: FlaskClient) -> None:
    assert client.get("/_emulator/jobs/progression").json == {"mode": "timed", "seconds": 0.0}
    assert client.put("/_emulator/jobs/progression", json={"mode": "timed", "seconds": 2.5}).status_code == 200
    assert resource_of(cloud_app).jobs.progression == Progression("timed", 2.5)
    assert client.put("/_emulator/jobs/progression", json={"mode": "immediate"}).json == {
        "mode": "immediate",
        "seconds": 0.0,
    }


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({}, "mode"),
        ({"mode": "slow"}, "mode"),
        ({"mode": "manual", "seconds": 3}, "seconds"),
        ({"mode": "timed", "seconds": -1}, "seconds"),
        ({"mode": "timed", "seconds": "3"}, "seconds"),
        ({"mode": "timed", "delay": 3}, "delay"),
    ],
)
def test_a_bad_progression_is_a_400(cloud_app: Flask, client: FlaskClient, body: dict[str, Any], target: str) -> None:
    response = client.put("/_emulator/jobs/progression", json=body)
    assert response.status_code == 400
    assert error_of(response)["target"] == target
    assert resource_of(cloud_app).jobs.progression == Progression()


def test_a_step_releases_a_held_job(cloud_app: Flask, client: FlaskClient) -> None:
    jobs = resource_of(cloud_app).jobs
    ran = threading.Event()

    def runner(context: JobContext) -> None:
        ran.set()

    jobs.register("control-test", runner)
    client.put("/_emulator/jobs/progression", json={"mode": "manual"})
    first = jobs.submit("control-test", "p", "s", {})["jobId"]
    second = jobs.submit("control-test", "p", "s", {})["jobId"]
    assert not ran.wait(0.1)

    assert client.post("/_emulator/jobs/step", json={"jobId": first}).json == {"released": [first]}
    assert ran.wait(5)
    response = client.post("/_emulator/jobs/step", json={"jobId": first})
    assert response.status_code == 404
    assert error_of(response)["target"] == "jobId"
    assert client.post("/_emulator/jobs/step").json == {"released": [second]}
    assert client.post("/_emulator/jobs/step").json == {"released": []}


@pytest.mark.parametrize("body", [{"jobId": 5}, {"jobId": ""}, {"job": "x"}, ["x"]])
def test_a_bad_step_body_is_a_400(client: FlaskClient, body: Any) -> None:
    assert client.post("/_emulator/jobs/step", json=body).status_code == 400


# clock ---------------------------------------------------------------------------------------------------


def test_the_clock_moves_by_offset_or_to_a_date(cloud_app: Flask, client: FlaskClient) -> None:
    clock = resource_of(cloud_app).clock
    moved = client.put("/_emulator/clock", json={"offsetSeconds": 3600}).json
    assert moved is not None
    assert moved["offsetSeconds"] == 3600
    assert abs(clock.now() - datetime.now(UTC) - timedelta(hours=1)) < timedelta(seconds=2)

    target = datetime(2030, 12, 31, 23, 59, tzinfo=UTC)
    body = client.put("/_emulator/clock", json={"now": "2030-12-31T23:59:00Z"}).json
    assert body is not None
    assert abs(datetime.fromisoformat(body["now"]) - target) < timedelta(seconds=2)
    assert client.get("/_emulator/clock").json["now"].startswith("2030-12-31T23:5")  # type: ignore[index]
    assert abs(clock.now() - target) < timedelta(seconds=2)


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({}, None),
        ({"offsetSeconds": 1, "now": "2030-01-01T00:00:00Z"}, None),
        ({"offsetSeconds": "60"}, "offsetSeconds"),
        ({"offsetSeconds": 1e12}, "offsetSeconds"),
        ({"now": "tomorrow"}, "now"),
        ({"now": "9999-12-31T00:00:00Z"}, "now"),
        ({"now": 5}, "now"),
        ({"speed": 2}, "speed"),
    ],
)
def test_a_bad_clock_body_is_a_400(
    cloud_app: Flask, client: FlaskClient, body: dict[str, Any], target: str | None
) -> None:
    response = client.put("/_emulator/clock", json=body)
    assert response.status_code == 400
    error = error_of(response)
    assert error.get("target") == target
    assert error["message"]
    assert resource_of(cloud_app).clock.offset == timedelta(0)


def test_control_answers_are_json_even_for_malformed_bodies(client: FlaskClient) -> None:
    response = client.put("/_emulator/clock", data=b"not json", content_type="application/json")
    assert response.status_code == 400
    assert json.loads(response.data)["error"]["innererror"]["code"] == "InvalidRequestBodyFormat"
