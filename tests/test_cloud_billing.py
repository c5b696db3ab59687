"""The metering endpoint (docs/billing-protocol.md): key check, usage ingestion, ledger, quota, durability."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from emulator.cloud.app import close_app, create_app
from emulator.cloud.billing.ledger import next_month
from emulator.cloud.clock import month_of
from emulator.cloud.control.interceptor import DroppedConnectionError
from emulator.cloud.resource import CloudConfig
from emulator.web.server import BackgroundServer

from .conftest import CLOUD_KEYS, keyed_client

STATUS_BODY = {"containerType": "customner", "containerVersion": "1.0.0", "containerId": "host-1"}


REQUEST_TIME = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
"""One request time for the module: a record re-sent for an idempotency check must be byte-for-byte the same."""


def usage_record(record_id: str, quantity: int = 1, **changes: Any) -> dict[str, Any]:
    record = {
        "id": record_id,
        "containerType": "customner",
        "containerVersion": "1.0.0",
        "containerId": "host-1",
        "meter": {"name": "TextRecords", "quantity": quantity},
        "requestTime": REQUEST_TIME,
        "apiType": "analyze-text",
    }
    record.update(changes)
    return record


def keyless(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def f0_app(cloud_config: CloudConfig) -> Iterator[Flask]:
    app = create_app(replace(cloud_config, tier="F0"))
    yield app
    close_app(app)


@pytest.fixture
def f0(f0_app: Flask) -> FlaskClient:
    return keyed_client(f0_app)


def ledger(client: FlaskClient, month: str | None = None) -> dict[str, Any]:
    response = client.get("/metering/v1/usage", query_string={"month": month} if month else None)
    assert response.status_code == 200, response.json
    body: dict[str, Any] = response.json  # type: ignore[assignment]
    return body


# key check -----------------------------------------------------------------------------------------------


def test_a_valid_key_of_an_s_resource_is_valid_without_a_quota(client: FlaskClient) -> None:
    response = client.post("/metering/v1/status", json=STATUS_BODY)
    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert body["status"] == "Valid"
    assert body["keySlot"] == "key1"
    assert body["tier"] == "S"
    assert body["quota"]["limit"] is None
    assert body["quota"]["remaining"] is None
    assert body["quota"]["meter"] == "TextRecords"
    assert "Retry-After" not in response.headers


def test_the_second_key_is_valid_and_named_by_its_slot(cloud_app: Flask) -> None:
    response = keyless(cloud_app).post(
        "/metering/v1/status", json=STATUS_BODY, headers={"Ocp-Apim-Subscription-Key": CLOUD_KEYS[1]}
    )
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["keySlot"] == "key2"


@pytest.mark.parametrize("headers", [{}, {"Ocp-Apim-Subscription-Key": "not-a-key"}, {"Ocp-Apim-Subscription-Key": ""}])
def test_a_missing_or_wrong_key_is_the_gateways_401_meaning_invalid(cloud_app: Flask, headers: dict[str, str]) -> None:
    for path in ("/metering/v1/status", "/metering/v1/usage"):
        response = keyless(cloud_app).post(path, json=STATUS_BODY, headers=headers)
        assert response.status_code == 401
        assert response.json is not None
        assert response.json["error"]["code"] == "401"


def test_f0_status_carries_the_months_quota(f0: FlaskClient) -> None:
    body = f0.post("/metering/v1/status", json=STATUS_BODY).json
    assert body is not None
    now = datetime.now(UTC)
    assert body["tier"] == "F0"
    assert body["quota"] == {
        "meter": "TextRecords",
        "month": month_of(now),
        "limit": 5000,
        "used": 0,
        "remaining": 5000,
        "resetsAt": next_month(month_of(now)).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


@pytest.mark.parametrize(
    "container_type",
    ["customner", "CustomNER", "mcr.microsoft.com/azure-cognitive-services/textanalytics/customner:latest"],
)
def test_custom_ner_container_types_are_accepted(client: FlaskClient, container_type: str) -> None:
    response = client.post("/metering/v1/status", json={**STATUS_BODY, "containerType": container_type})
    assert response.status_code == 200


@pytest.mark.parametrize("container_type", ["sentiment", "textanalytics/keyphrase:latest", "customner-old"])
def test_another_kind_of_container_is_a_mismatch(client: FlaskClient, container_type: str) -> None:
    response = client.post("/metering/v1/status", json={**STATUS_BODY, "containerType": container_type})
    assert response.status_code == 403
    assert response.json is not None
    assert response.json["status"] == "Mismatch"
    assert container_type in response.json["message"]


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"containerVersion": "1", "containerId": "h"}, "containerType"),
        ({**STATUS_BODY, "containerVersion": 1}, "containerVersion"),
        ({**STATUS_BODY, "containerId": ""}, "containerId"),
        ({**STATUS_BODY, "containerId": "a\nb"}, "containerId"),
        ({**STATUS_BODY, "projectName": "no spaces allowed"}, "projectName"),
        ({**STATUS_BODY, "exportedModelName": ".."}, "exportedModelName"),
        ({**STATUS_BODY, "apiKey": "x"}, "apiKey"),
        ([STATUS_BODY], "body"),
    ],
)
def test_a_bad_status_body_is_a_400_naming_the_field(client: FlaskClient, body: Any, target: str) -> None:
    response = client.post("/metering/v1/status", json=body)
    assert response.status_code == 400
    assert response.json is not None
    error = response.json["error"]
    assert error["code"] == "InvalidRequest"
    assert error["target"] == target
    assert target in error["message"] or "JSON object" in error["message"]


def test_a_status_body_that_is_not_json_is_a_400(client: FlaskClient) -> None:
    response = client.post("/metering/v1/status", data=b"{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"]["innererror"]["code"] == "InvalidRequestBodyFormat"
    assert "JSON" in response.json["error"]["message"]


# usage ingestion -----------------------------------------------------------------------------------------


def test_a_single_record_is_accepted_and_counted(client: FlaskClient) -> None:
    response = client.post("/metering/v1/usage", json=usage_record("r-1", 7))
    assert response.status_code == 200
    body = response.json
    assert body is not None
    assert body["status"] == "Valid"
    assert (body["accepted"], body["duplicates"]) == (1, 0)
    assert body["records"] == [{"id": "r-1", "result": "accepted"}]
    book = ledger(client)
    assert book["totals"] == {"TextRecords": 7, "Transactions": 0}
    assert book["meters"] == [{"keySlot": "key1", "meter": "TextRecords", "quantity": 7, "records": 1}]


def test_a_resent_record_is_counted_once(client: FlaskClient) -> None:
    batch = [usage_record("a", 3), usage_record("b", 1, meter={"name": "Transactions", "quantity": 1})]
    assert client.post("/metering/v1/usage", json=batch).json["accepted"] == 2  # type: ignore[index]
    again = client.post("/metering/v1/usage", json=[*batch, usage_record("c", 2)]).json
    assert again is not None
    assert (again["accepted"], again["duplicates"]) == (1, 2)
    assert [r["result"] for r in again["records"]] == ["duplicate", "duplicate", "accepted"]
    assert ledger(client)["totals"] == {"TextRecords": 5, "Transactions": 1}


def test_a_record_repeated_inside_one_batch_is_counted_once(client: FlaskClient) -> None:
    body = client.post("/metering/v1/usage", json=[usage_record("same", 4), usage_record("same", 4)]).json
    assert body is not None
    assert [r["result"] for r in body["records"]] == ["accepted", "duplicate"]
    assert ledger(client)["totals"]["TextRecords"] == 4


def test_a_reused_id_with_other_content_is_a_conflict_and_records_nothing(client: FlaskClient) -> None:
    client.post("/metering/v1/usage", json=usage_record("x", 1))
    response = client.post("/metering/v1/usage", json=[usage_record("new", 5), usage_record("x", 2)])
    assert response.status_code == 409
    assert response.json is not None
    assert response.json["error"]["target"] == "[1].id"
    assert "record 1" in response.json["error"]["message"]
    assert ledger(client)["totals"]["TextRecords"] == 1


def test_usage_under_the_other_key_lands_in_that_keys_slot(cloud_app: Flask) -> None:
    for number, key in enumerate(CLOUD_KEYS):
        response = keyless(cloud_app).post(
            "/metering/v1/usage",
            json=usage_record(f"k{number}", 10 + number),
            headers={"Ocp-Apim-Subscription-Key": key},
        )
        assert response.status_code == 200
    assert ledger(keyed_client(cloud_app))["meters"] == [
        {"keySlot": "key1", "meter": "TextRecords", "quantity": 10, "records": 1},
        {"keySlot": "key2", "meter": "TextRecords", "quantity": 11, "records": 1},
    ]


@pytest.mark.parametrize(
    ("change", "target"),
    [
        ({"id": ""}, "id"),
        ({"id": "has space"}, "id"),
        ({"id": 12}, "id"),
        ({"containerType": None}, "containerType"),
        ({"containerVersion": ""}, "containerVersion"),
        ({"apiType": ["x"]}, "apiType"),
        ({"meter": "TextRecords"}, "meter"),
        ({"meter": {"name": "Characters", "quantity": 1}}, "meter.name"),
        ({"meter": {"name": "TextRecords", "quantity": 1.5}}, "meter.quantity"),
        ({"meter": {"name": "TextRecords", "quantity": -1}}, "meter.quantity"),
        ({"meter": {"name": "TextRecords", "quantity": True}}, "meter.quantity"),
        ({"meter": {"name": "TextRecords", "quantity": 10**8}}, "meter.quantity"),
        ({"meter": {"name": "TextRecords"}}, "meter.quantity"),
        ({"meter": {"name": "TextRecords", "quantity": 1, "unit": "x"}}, "meter.unit"),
        ({"requestTime": "yesterday"}, "requestTime"),
        ({"requestTime": "2026-02-30T00:00:00Z"}, "requestTime"),
        ({"requestTime": "0001-01-01T00:00:00+01:00"}, "requestTime"),
        ({"requestTime": "2026-02-02"}, "requestTime"),
        ({"requestTime": 1760000000}, "requestTime"),
        ({"meters": []}, "meters"),
    ],
)
def test_a_bad_record_is_a_400_naming_its_index_and_field(
    client: FlaskClient, change: dict[str, Any], target: str
) -> None:
    single = client.post("/metering/v1/usage", json=usage_record("s", **change))
    assert single.status_code == 400
    assert single.json is not None
    assert single.json["error"]["code"] == "InvalidRequest"
    assert single.json["error"]["target"] == target
    batch = client.post("/metering/v1/usage", json=[usage_record("ok"), usage_record("bad", **change)])
    assert batch.status_code == 400
    assert batch.json is not None
    error = batch.json["error"]
    assert error["target"] == f"[1].{target}"
    assert error["message"].startswith("record 1: ")
    assert error["details"][0]["target"] == f"[1].{target}"
    assert ledger(client)["totals"]["TextRecords"] == 0


def test_every_bad_record_of_a_batch_is_listed(client: FlaskClient) -> None:
    batch = [usage_record("0"), usage_record("1", -1), usage_record("2"), 7, usage_record("4", requestTime="x")]
    error = client.post("/metering/v1/usage", json=batch).json["error"]  # type: ignore[index]
    assert [d["target"] for d in error["details"]] == ["[1].meter.quantity", "[3]", "[4].requestTime"]
    assert "2 more" in error["message"]


@pytest.mark.parametrize(
    ("data", "status", "inner"),
    [
        (b"[]", 400, "EmptyRequest"),
        (b"42", 400, "InvalidRequestBodyFormat"),
        (b"", 400, "InvalidRequestBodyFormat"),
        (b'{"id": NaN}', 400, "InvalidRequestBodyFormat"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "InvalidRequestBodyFormat"),
        (b"\xff\xfe\x00garbage", 400, "InvalidRequestBodyFormat"),
        (json.dumps([usage_record(str(i)) for i in range(101)]).encode(), 400, "InvalidParameterValue"),
        (b" " * (256 * 1024 + 1), 413, None),
    ],
)
def test_bad_usage_bodies_are_refused_with_an_error_body(
    client: FlaskClient, data: bytes, status: int, inner: str | None
) -> None:
    response = client.post("/metering/v1/usage", data=data, content_type="application/json")
    assert response.status_code == status
    assert response.json is not None
    assert response.json["error"]["message"]
    if inner:
        assert response.json["error"]["innererror"]["code"] == inner


def test_a_batch_with_another_kind_of_container_is_a_mismatch_and_records_nothing(client: FlaskClient) -> None:
    response = client.post("/metering/v1/usage", json=[usage_record("a"), usage_record("b", containerType="sentiment")])
    assert response.status_code == 403
    assert response.json is not None
    assert response.json["status"] == "Mismatch"
    assert "record 1" in response.json["message"]
    assert ledger(client)["totals"]["TextRecords"] == 0


def test_records_count_in_the_month_of_their_request_time(client: FlaskClient) -> None:
    client.post("/metering/v1/usage", json=usage_record("old", 9, requestTime="2025-12-31T23:59:59Z"))
    client.post("/metering/v1/usage", json=usage_record("zoned", 4, requestTime="2026-01-01T00:30:00+01:00"))
    assert ledger(client, "2025-12")["totals"]["TextRecords"] == 13  # 00:30+01:00 is still December in UTC
    assert ledger(client)["totals"]["TextRecords"] == 0


def test_a_bad_month_is_a_400(client: FlaskClient) -> None:
    response = client.get("/metering/v1/usage?month=2026-13")
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"]["target"] == "month"


# quota ---------------------------------------------------------------------------------------------------


def test_f0_runs_out_of_quota_at_5000_text_records_across_both_keys(f0_app: Flask, f0: FlaskClient) -> None:
    body = f0.post("/metering/v1/usage", json=usage_record("a", 2999)).json
    assert body is not None
    assert (body["status"], body["quota"]["remaining"]) == ("Valid", 2001)
    transactions = usage_record("t", 50, meter={"name": "Transactions", "quantity": 50})
    assert f0.post("/metering/v1/usage", json=transactions).json["status"] == "Valid"  # type: ignore[index]
    second_key = {"Ocp-Apim-Subscription-Key": CLOUD_KEYS[1]}
    over = keyless(f0_app).post("/metering/v1/usage", json=usage_record("b", 2001), headers=second_key)
    assert over.status_code == 200  # usage already served is recorded even when it exhausts the quota
    assert over.json is not None
    assert over.json["status"] == "OutOfQuota"
    assert over.json["quota"]["remaining"] == 0

    check = f0.post("/metering/v1/status", json=STATUS_BODY)
    assert check.status_code == 403
    assert check.json is not None
    assert check.json["status"] == "OutOfQuota"
    assert "5000" in check.json["message"]
    now = datetime.now(UTC)
    retry_after = int(check.headers["Retry-After"])
    assert abs(now + timedelta(seconds=retry_after) - next_month(month_of(now))) < timedelta(seconds=5)

    late = f0.post("/metering/v1/usage", json=usage_record("c", 1)).json
    assert late is not None
    assert (late["status"], late["quota"]["used"]) == ("OutOfQuota", 5001)


def test_the_s_tier_has_no_quota(client: FlaskClient) -> None:
    body = client.post("/metering/v1/usage", json=usage_record("big", 1_000_000)).json
    assert body is not None
    assert body["status"] == "Valid"
    assert client.post("/metering/v1/status", json=STATUS_BODY).status_code == 200


def test_the_quota_renews_when_the_clock_rolls_into_the_next_month(f0: FlaskClient) -> None:
    this_month = month_of(datetime.now(UTC))
    f0.post("/metering/v1/usage", json=usage_record("all", 5000))
    assert f0.post("/metering/v1/status", json=STATUS_BODY).json["status"] == "OutOfQuota"  # type: ignore[index]

    rolled = f0.put("/_emulator/clock", json={"now": (next_month(this_month) + timedelta(hours=1)).isoformat()})
    assert rolled.status_code == 200
    check = f0.post("/metering/v1/status", json=STATUS_BODY)
    assert check.status_code == 200
    assert check.json is not None
    assert check.json["quota"]["used"] == 0
    assert check.json["quota"]["month"] == month_of(next_month(this_month))
    assert ledger(f0, this_month)["quota"]["used"] == 5000

    f0.put("/_emulator/clock", json={"offsetSeconds": 0})
    assert f0.post("/metering/v1/status", json=STATUS_BODY).status_code == 403


# billing-status override ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "http_status", "retry_after"),
    [
        ("Valid", 200, None),
        ("Mismatch", 403, None),
        ("OutOfQuota", 403, "any"),
        ("ContainerUseUnauthorized", 403, None),
        ("BillingEndpointBusy", 503, "60"),
        ("Unknown", 500, None),
    ],
)
def test_each_overridden_status_has_its_http_status(
    client: FlaskClient, status: str, http_status: int, retry_after: str | None
) -> None:
    assert client.put("/_emulator/billing/status", json={"status": status}).status_code == 200
    response = client.post("/metering/v1/status", json=STATUS_BODY)
    assert response.status_code == http_status
    assert response.json is not None
    assert response.json["status"] == status
    assert response.json["message"]
    if retry_after is None:
        assert "Retry-After" not in response.headers
    elif retry_after != "any":
        assert response.headers["Retry-After"] == retry_after
    else:
        assert int(response.headers["Retry-After"]) > 0


def test_an_invalid_override_is_the_gateways_401(client: FlaskClient) -> None:
    client.put("/_emulator/billing/status", json={"status": "Invalid"})
    response = client.post("/metering/v1/status", json=STATUS_BODY)
    assert response.status_code == 401
    assert response.json is not None
    assert response.json["error"]["code"] == "401"


def test_could_not_connect_drops_the_connection(client: FlaskClient) -> None:
    client.put("/_emulator/billing/status", json={"status": "CouldNotConnect"})
    with pytest.raises(DroppedConnectionError):
        client.post("/metering/v1/status", json=STATUS_BODY)
    with pytest.raises(DroppedConnectionError):
        client.post("/metering/v1/usage", json=usage_record("lost"))
    client.delete("/_emulator/billing/status")
    assert ledger(client)["totals"]["TextRecords"] == 0
    assert client.post("/metering/v1/status", json=STATUS_BODY).status_code == 200


def test_could_not_connect_is_a_connection_error_over_http(cloud_app: Flask, client: FlaskClient) -> None:
    client.put("/_emulator/billing/status", json={"status": "CouldNotConnect"})
    with BackgroundServer(cloud_app) as server:
        connection = http.client.HTTPConnection(server.url.removeprefix("http://"), timeout=10)
        headers = {"Ocp-Apim-Subscription-Key": CLOUD_KEYS[0], "Content-Type": "application/json"}
        connection.request("POST", "/metering/v1/status", body=json.dumps(STATUS_BODY), headers=headers)
        with pytest.raises(ConnectionError):
            connection.getresponse()
        connection.close()


def test_a_busy_endpoint_records_nothing_and_says_when_to_retry(client: FlaskClient) -> None:
    client.put("/_emulator/billing/status", json={"status": "BillingEndpointBusy", "retryAfter": 5})
    response = client.post("/metering/v1/usage", json=usage_record("later", 3))
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.json is not None
    assert response.json["status"] == "BillingEndpointBusy"
    assert ledger(client)["totals"]["TextRecords"] == 0


def test_an_out_of_quota_override_still_records_usage(client: FlaskClient) -> None:
    client.put("/_emulator/billing/status", json={"status": "OutOfQuota", "retryAfter": 30})
    response = client.post("/metering/v1/usage", json=usage_record("counted", 3))
    assert response.status_code == 200
    assert response.json is not None
    assert (response.json["status"], response.json["accepted"]) == ("OutOfQuota", 1)
    check = client.post("/metering/v1/status", json=STATUS_BODY)
    assert (check.status_code, check.headers["Retry-After"]) == (403, "30")


def test_a_valid_override_lifts_a_natural_out_of_quota(f0: FlaskClient) -> None:
    f0.post("/metering/v1/usage", json=usage_record("all", 5000))
    f0.put("/_emulator/billing/status", json={"status": "Valid"})
    assert f0.post("/metering/v1/status", json=STATUS_BODY).status_code == 200
    assert f0.get("/_emulator/billing/status").json == {"override": {"status": "Valid", "retryAfter": None}}
    assert f0.delete("/_emulator/billing/status").status_code == 204
    assert f0.get("/_emulator/billing/status").json == {"override": None}
    assert f0.post("/metering/v1/status", json=STATUS_BODY).status_code == 403


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({}, "status"),
        ({"status": "Broken"}, "status"),
        ({"status": "Valid", "retryAfter": 5}, "retryAfter"),
        ({"status": "CouldNotConnect", "retryAfter": 5}, "retryAfter"),
        ({"status": "BillingEndpointBusy", "retryAfter": -1}, "retryAfter"),
        ({"status": "BillingEndpointBusy", "retryAfter": 1.5}, "retryAfter"),
        ({"status": "Valid", "why": "x"}, "why"),
    ],
)
def test_a_bad_override_is_a_400(client: FlaskClient, body: dict[str, Any], target: str) -> None:
    response = client.put("/_emulator/billing/status", json=body)
    assert response.status_code == 400
    assert response.json is not None
    assert response.json["error"]["target"] == target
    assert client.get("/_emulator/billing/status").json == {"override": None}


# durability and concurrency ------------------------------------------------------------------------------


def test_acknowledged_usage_survives_a_restart(cloud_config: CloudConfig) -> None:
    first = create_app(cloud_config)
    client = keyed_client(first)
    assert client.post("/metering/v1/usage", json=[usage_record("d1", 5), usage_record("d2", 6)]).status_code == 200
    close_app(first)

    second = create_app(cloud_config)
    try:
        client = keyed_client(second)
        assert ledger(client)["totals"]["TextRecords"] == 11
        resent = client.post("/metering/v1/usage", json=usage_record("d1", 5)).json
        assert resent is not None
        assert resent["records"] == [{"id": "d1", "result": "duplicate"}]
    finally:
        close_app(second)


def test_concurrent_reports_count_every_record_exactly_once(cloud_app: Flask, client: FlaskClient) -> None:
    shared = [usage_record(f"shared-{i}", 1) for i in range(20)]
    statuses: list[int] = []
    lock = threading.Lock()

    def report(url: str, worker: int) -> None:
        own = [usage_record(f"own-{worker}-{i}", 2) for i in range(10)]
        for batch in (shared + own, shared):
            connection = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
            headers = {"Ocp-Apim-Subscription-Key": CLOUD_KEYS[worker % 2], "Content-Type": "application/json"}
            connection.request("POST", "/metering/v1/usage", body=json.dumps(batch), headers=headers)
            status = connection.getresponse().status
            connection.close()
            with lock:
                statuses.append(status)

    with BackgroundServer(cloud_app) as server:
        threads = [threading.Thread(target=report, args=(server.url, worker)) for worker in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert statuses == [200] * 16
    book = ledger(client)
    assert book["totals"]["TextRecords"] == 20 + 8 * 10 * 2
    assert sum(entry["records"] for entry in book["meters"]) == 20 + 80
