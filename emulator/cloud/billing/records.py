"""The bodies containers send to the metering endpoint, checked field by field (docs/billing-protocol.md).

A usage record has the shape of the container FAQ's ``usageRequestBody`` (azure-contract.md §3.4):
``{id, containerType, containerVersion, containerId, meter: {name, quantity}, requestTime, apiType}``.
A batch is checked whole before anything is recorded, and every bad record is named by its index and field,
so a container learns from one answer everything it must fix; a bad body is a 400, never a 500.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from emulator.ner import naming
from emulator.web.bodies import Body, describe, malformed, require
from emulator.web.errors import ApiError, BadRequest, invalid

from ..clock import month_of, parse_iso

TEXT_RECORDS = "TextRecords"
"""Meter of text records analysed: one per started 1,000 characters of each document (the F0 quota's unit)."""
TRANSACTIONS = "Transactions"
"""Meter of prediction requests served (one per analyze-text job), for reconciliation with the journal."""
METERS = (TEXT_RECORDS, TRANSACTIONS)

CONTAINER_TYPE = "customner"
"""The container type this resource meters: the Custom NER image's name, case-insensitive."""

MAX_BATCH = 100
MAX_QUANTITY = 10_000_000
MAX_DETAILS = 20
RECORD_FIELDS = ("id", "containerType", "containerVersion", "containerId", "meter", "requestTime", "apiType")
STATUS_FIELDS = ("containerType", "containerVersion", "containerId", "projectName", "exportedModelName")

_RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_PRINTABLE = re.compile(r"[^\x00-\x1f\x7f]+")
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]")
_YEARS = range(2000, 3000)


def is_custom_ner(container_type: str) -> bool:
    """Whether ``container_type`` names the Custom NER container: ``customner``, optionally as an image
    reference (``mcr.microsoft.com/azure-cognitive-services/textanalytics/customner:latest``)."""
    name = container_type.rsplit("/", 1)[-1].split(":", 1)[0]
    return name.lower() == CONTAINER_TYPE


@dataclass(frozen=True)
class StatusRequest:
    container_type: str
    container_version: str
    container_id: str
    project_name: str | None
    exported_model_name: str | None


@dataclass(frozen=True)
class UsageRecord:
    id: str
    container_type: str
    month: str
    """``YYYY-MM`` of ``requestTime`` in UTC: the ledger period the record counts in."""
    meter: str
    quantity: int
    body: dict[str, Any]
    """The record as received; a re-sent record must be equal to it to count as a duplicate."""
    index: int | None
    """The record's place in its batch; None when it was sent alone. Errors name records by it."""

    def target(self, field: str) -> str:
        return field if self.index is None else f"[{self.index}].{field}"

    def label(self) -> str:
        """The prefix of a message about this record."""
        return "" if self.index is None else f"record {self.index}: "


def _text(body: Body, name: str, max_length: int, what: str) -> str:
    value: str = require(body.string(name, max_length=max_length), name, what)
    if not _PRINTABLE.fullmatch(value):
        raise invalid(f"{name} must not contain control characters, not {describe(value)}", target=name)
    return value


def parse_status_request(value: Any) -> StatusRequest:
    """The body of a status check.

    :raises BadRequest: not an object, a field missing or malformed, or an unknown field.
    """
    body = Body(value, STATUS_FIELDS)
    names: dict[str, str | None] = {}
    for field in ("projectName", "exportedModelName"):
        name = names[field] = body.string(field, max_length=50)
        if name is not None and not naming.RESOURCE_NAME(name):
            raise invalid(naming.RESOURCE_NAME.explain(name, field), target=field)
    return StatusRequest(
        _text(body, "containerType", 200, f"the container's image name, {CONTAINER_TYPE!r} for Custom NER"),
        _text(body, "containerVersion", 64, "the container's version, e.g. its image tag"),
        _text(body, "containerId", 128, "an id of this container instance, e.g. its host name"),
        names["projectName"],
        names["exportedModelName"],
    )


def _request_time(body: Body) -> datetime:
    text: str = require(body.string("requestTime", max_length=40), "requestTime", "an ISO-8601 date-time")
    try:
        moment = parse_iso(text) if _DATE_TIME.match(text) else None
    except ValueError:
        moment = None
    if moment is None or moment.year not in _YEARS:
        raise invalid(
            f"requestTime must be an ISO-8601 date-time from year 2000 to 2999, e.g. 2026-02-02T23:19:07Z (no zone "
            f"means UTC), not {describe(text)}",
            target="requestTime",
        )
    return moment


def _meter(value: Any) -> tuple[str, int]:
    if not isinstance(value, dict):
        raise invalid(f"meter must be an object {{name, quantity}}, not {describe(value)}", target="meter")
    try:
        meter = Body(value, ("name", "quantity"))
        name: str = require(meter.string("name", choices=METERS), "name", f"one of {', '.join(METERS)}")
        quantity: int = require(meter.integer("quantity", 0, MAX_QUANTITY), "quantity", "a whole number")
    except ApiError as exc:
        raise invalid(f"meter: {exc.message}", target=f"meter.{exc.target}") from None
    return name, quantity


def _record(value: Any, index: int | None) -> UsageRecord:
    if not isinstance(value, dict):
        raise invalid(f"a usage record must be a JSON object {{{', '.join(RECORD_FIELDS)}}}, not {describe(value)}")
    body = Body(value, RECORD_FIELDS)
    record_id = _text(body, "id", 128, "a unique id of this record, e.g. a UUID")
    if not _RECORD_ID.fullmatch(record_id):
        raise invalid(
            f"id must be 1 to 128 letters, digits, '.', '_', ':' or '-' starting with a letter or digit (a UUID "
            f"will do), not {describe(record_id)}",
            target="id",
        )
    container_type = _text(body, "containerType", 200, f"the container's image name, {CONTAINER_TYPE!r}")
    _text(body, "containerVersion", 64, "the container's version, e.g. its image tag")
    _text(body, "containerId", 128, "an id of the container instance, e.g. its host name")
    _text(body, "apiType", 64, "the API the usage is for, e.g. analyze-text")
    name, quantity = _meter(require(body.fields.get("meter"), "meter", "an object {name, quantity}"))
    month = month_of(_request_time(body))
    return UsageRecord(record_id, container_type, month, name, quantity, dict(value), index)


def _located(exc: ApiError, index: int) -> dict[str, Any]:
    target = f"[{index}].{exc.target}" if exc.target else f"[{index}]"
    return {"code": "InvalidArgument", "message": f"record {index}: {exc.message}", "target": target}


def parse_usage(value: Any) -> list[UsageRecord]:
    """The records of a usage report: one record object, or an array of 1 to ``MAX_BATCH`` records.

    :raises BadRequest: not a record or an array of records, empty, too long, or any record malformed (the
        error's ``details`` name up to ``MAX_DETAILS`` bad records, each by index and field).
    """
    if isinstance(value, dict):
        return [_record(value, None)]
    if not isinstance(value, list):
        raise malformed("a usage record object or an array of them", value)
    if not value:
        raise BadRequest(f"the array holds no record; send 1 to {MAX_BATCH}", inner="EmptyRequest", target="body")
    if len(value) > MAX_BATCH:
        raise invalid(f"a batch holds at most {MAX_BATCH} records, not {len(value)}; split it", target="body")
    records: list[UsageRecord] = []
    problems: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        try:
            records.append(_record(item, index))
        except ApiError as exc:
            problems.append(_located(exc, index))
    if problems:
        first = problems[0]
        raise BadRequest(
            first["message"] + (f" (and {len(problems) - 1} more bad records)" if len(problems) > 1 else ""),
            code="InvalidRequest",
            inner="InvalidParameterValue",
            target=first["target"],
            details=problems[:MAX_DETAILS],
        )
    return records
