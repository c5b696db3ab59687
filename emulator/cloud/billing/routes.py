"""The metering endpoint containers report to (docs/billing-protocol.md)::

    POST /metering/v1/status            the key check at start-up and before serving: Valid, OutOfQuota, ...
    POST /metering/v1/usage             one usage record or a batch; idempotent by record id
    GET  /metering/v1/usage[?month=]    the ledger of a month (default: the resource clock's month)

All three need the resource's key; a 401 from any of them means the container's status is ``Invalid``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, g, jsonify, request

from emulator.web.bodies import read_json
from emulator.web.errors import invalid

from ..clock import iso, month_of
from ..resource import Resource, current
from . import ledger, status
from .records import METERS, parse_status_request, parse_usage

bp = Blueprint("billing", __name__, url_prefix="/metering")

MAX_STATUS_BYTES = 16 * 1024
MAX_USAGE_BYTES = 256 * 1024
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def _quota(resource: Resource, month: str) -> ledger.Quota:
    """The resource's quota of ``month`` (``YYYY-MM``) as its ledger stands now."""
    return ledger.quota(resource.store, resource.config.tier, month)


def _details(resource: Resource, quota: ledger.Quota, now: datetime) -> dict[str, Any]:
    """What every status body carries besides the status: whose key, the tier, the endpoint's time, the quota."""
    return {"keySlot": g.key_slot, "tier": resource.config.tier, "now": iso(now), "quota": quota.json()}


@bp.post("/v1/status")
def check() -> Response:
    checked = parse_status_request(read_json(MAX_STATUS_BYTES))
    resource = current()
    now = resource.clock.now()
    quota = _quota(resource, month_of(now))
    verdict = status.verdict(resource, [checked.container_type], quota, now)
    return status.answer(verdict, _details(resource, quota, now))


@bp.post("/v1/usage")
def report() -> Response:
    records = parse_usage(read_json(MAX_USAGE_BYTES))
    resource = current()
    now = resource.clock.now()
    quota = _quota(resource, month_of(now))
    before = status.verdict(resource, [record.container_type for record in records], quota, now)
    if before.status not in status.RECORDING:
        return status.answer(before, _details(resource, quota, now))
    outcomes = ledger.record(resource.store, g.key_slot, records, now)
    quota = _quota(resource, month_of(now))
    after = status.verdict(resource, [], quota, now)
    return jsonify(
        {
            "status": after.status,
            "message": after.message,
            "accepted": outcomes.count(ledger.ACCEPTED),
            "duplicates": outcomes.count(ledger.DUPLICATE),
            "records": [{"id": r.id, "result": outcome} for r, outcome in zip(records, outcomes, strict=True)],
            **_details(resource, quota, now),
        }
    )


@bp.get("/v1/usage")
def usage() -> dict[str, Any]:
    resource = current()
    month = request.args.get("month") or month_of(resource.clock.now())
    if not _MONTH.fullmatch(month):
        raise invalid(f"month must be YYYY-MM, e.g. 2026-02, not {month!r}", target="month")
    entries = ledger.month_ledger(resource.store, month)
    totals = {meter: sum(e["quantity"] for e in entries if e["meter"] == meter) for meter in METERS}
    return {
        "month": month,
        "tier": resource.config.tier,
        "quota": _quota(resource, month).json(),
        "totals": totals,
        "meters": entries,
    }
