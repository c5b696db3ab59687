"""The usage ledger: every acknowledged usage record, summed per month, key slot and meter, and the quota.

Records live in the store's ``usage`` table, one row per record id, written in one ``BEGIN IMMEDIATE``
transaction per report with ``synchronous=FULL``: a report is acknowledged only after its rows are on disk,
so a restart (or ``kill -9``) loses no acknowledged record, and concurrent reports of the same record are
serialised, so it is counted once whichever arrives first.

The F0 quota (azure-contract.md §4: 5,000 text records a month) counts the whole resource, both keys,
in the month of the resource's clock, which the control plane can move to roll a month over.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from emulator.web.errors import Conflict

from ..clock import iso
from ..store import Store
from .records import TEXT_RECORDS, UsageRecord

F0_TEXT_RECORDS = 5000
QUOTA_LIMITS: dict[str, int | None] = {"F0": F0_TEXT_RECORDS, "S": None}
"""Text records a month per tier; S is billed per record, without a limit."""

ACCEPTED = "accepted"
DUPLICATE = "duplicate"


def month_start(month: str) -> datetime:
    """Midnight UTC on the first day of ``YYYY-MM``."""
    return datetime.strptime(month, "%Y-%m").replace(tzinfo=UTC)


def next_month(month: str) -> datetime:
    start = month_start(month)
    return start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)


@dataclass(frozen=True)
class Quota:
    month: str
    used: int
    limit: int | None

    @property
    def exhausted(self) -> bool:
        """No text record left: a container must stop serving until ``resets_at``."""
        return self.limit is not None and self.used >= self.limit

    @property
    def resets_at(self) -> datetime:
        return next_month(self.month)

    def json(self) -> dict[str, Any]:
        return {
            "meter": TEXT_RECORDS,
            "month": self.month,
            "limit": self.limit,
            "used": self.used,
            "remaining": None if self.limit is None else max(0, self.limit - self.used),
            "resetsAt": iso(self.resets_at),
        }


def quota(store: Store, tier: str, month: str) -> Quota:
    rows = store.query(
        "SELECT COALESCE(SUM(quantity), 0) AS used FROM usage WHERE month=? AND meter=?", (month, TEXT_RECORDS)
    )
    return Quota(month, int(rows[0]["used"]), QUOTA_LIMITS[tier])


def record(store: Store, key_slot: str, records: Sequence[UsageRecord], received: datetime) -> list[str]:
    """Add the records not yet in the ledger; ``accepted`` or ``duplicate`` per record, in order.

    :raises Conflict: a record's id was reported before with other content (nothing of the batch is added).
    """
    outcomes: list[str] = []
    with store.transaction() as db:
        for usage in records:
            rows = db.execute("SELECT body FROM usage WHERE id=?", (usage.id,)).fetchall()
            if rows:
                if json.loads(rows[0]["body"]) != usage.body:
                    raise Conflict(
                        f"{usage.label()}id {usage.id!r} was reported before with other content; a record id names "
                        "one report, so a new report needs a new id (nothing of this batch was recorded)",
                        code="Conflict",
                        target=usage.target("id"),
                    )
                outcomes.append(DUPLICATE)
                continue
            db.execute(
                "INSERT INTO usage (id, key_id, month, meter, quantity, received, body) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    usage.id,
                    key_slot,
                    usage.month,
                    usage.meter,
                    usage.quantity,
                    received.timestamp(),
                    json.dumps(usage.body),
                ),
            )
            outcomes.append(ACCEPTED)
    return outcomes


def month_ledger(store: Store, month: str) -> list[dict[str, Any]]:
    """The month's usage per key slot and meter: ``{keySlot, meter, quantity, records}``."""
    rows = store.query(
        "SELECT key_id, meter, SUM(quantity) AS quantity, COUNT(*) AS records FROM usage WHERE month=? "
        "GROUP BY key_id, meter ORDER BY key_id, meter",
        (month,),
    )
    return [
        {"keySlot": row["key_id"], "meter": row["meter"], "quantity": int(row["quantity"]), "records": row["records"]}
        for row in rows
    ]
