"""The control plane (docs/control-plane.md): what a test does to the emulator rather than to the service.

Modelled on moto's ``/moto-api`` (reset, seed, state transitions), WireMock's ``/__admin`` (request journal,
faults) and MockServer's chaos settings (seeded probabilities, controllable clock)::

    GET    /_emulator/health                      version, tier, uptime (the only route without the key)
    POST   /_emulator/reset                       empty store; no faults, journal, override; default jobs, clock
    POST   /_emulator/seed                        {"seed": n}: reproducible ids and fault probabilities
    POST   /_emulator/faults                      add a fault rule; GET lists, DELETE removes all
    GET    /_emulator/faults/{id}                 one rule; DELETE removes it
    GET    /_emulator/journal                     the last requests (?method=, ?path= glob); DELETE clears
    GET    /_emulator/billing/status              the billing-status override; PUT sets, DELETE clears
    GET    /_emulator/jobs/progression            how jobs progress; PUT sets {"mode", "seconds"}
    POST   /_emulator/jobs/step                   release held jobs (manual mode), {"jobId"} for one
    GET    /_emulator/clock                       the resource's now and offset; PUT moves it
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import metadata
from typing import Any

from flask import Blueprint, Flask, Response, request

from emulator.web.bodies import Body, read_json, require
from emulator.web.errors import NotFound, invalid

from ..billing.status import override_slot, parse_override
from ..clock import iso, parse_iso
from ..jobs import PROGRESSION_MODES, Progression
from ..resource import Resource, current
from .faults import Faults
from .interceptor import Interceptor
from .journal import Journal

bp = Blueprint("control", __name__, url_prefix="/_emulator")

MAX_BODY_BYTES = 16 * 1024
MAX_OFFSET = timedelta(days=100 * 365)
"""How far the clock may move either way: a century, far inside what ``datetime`` can represent."""
MAX_TIMED_SECONDS = 3600.0


@dataclass(frozen=True)
class ControlState:
    """The control plane's share of ``resource.extras`` (``"control"``)."""

    faults: Faults
    journal: Journal
    started: float
    """``time.monotonic()`` at start-up, for the uptime."""


def _state() -> ControlState:
    state: ControlState = current().extras["control"]
    return state


def _version() -> str:
    try:
        return metadata.version("cner-emulator")
    except metadata.PackageNotFoundError:
        return "unknown"  # run from a source tree that was never installed


def _no_content() -> Response:
    return Response(status=204)


@bp.get("/health")
def health() -> dict[str, Any]:
    resource = current()
    return {
        "status": "running",
        "version": _version(),
        "tier": resource.config.tier,
        "uptimeSeconds": round(time.monotonic() - _state().started, 3),
    }


@bp.post("/reset")
def reset() -> Response:
    """Back to a fresh resource; keys and tier stay (they are the resource's identity, see ``resource``)."""
    resource = current()
    state = _state()
    resource.jobs.reset()
    resource.store.reset()
    state.faults.clear()
    state.journal.clear()
    override_slot(resource).set(None)
    resource.jobs.progression = Progression()
    resource.clock.set_offset(timedelta(0))
    return _no_content()


@bp.post("/seed")
def seed() -> dict[str, Any]:
    body = Body(read_json(MAX_BODY_BYTES), ("seed",))
    value: int = require(body.integer("seed", 0, 2**64 - 1), "seed", "an integer from 0 to 2^64-1")
    current().ids.seed(value)
    _state().faults.seed(value)
    return {"seed": value}


# faults --------------------------------------------------------------------------------------------------


@bp.post("/faults")
def add_fault() -> tuple[dict[str, Any], int]:
    rule = _state().faults.add(read_json(MAX_BODY_BYTES))
    return rule.json(), 201


@bp.get("/faults")
def list_faults() -> dict[str, Any]:
    return {"value": [rule.json() for rule in _state().faults.rules()]}


@bp.delete("/faults")
def clear_faults() -> Response:
    _state().faults.clear()
    return _no_content()


def _missing_rule(rule_id: str) -> NotFound:
    return NotFound(f"no fault rule {rule_id!r}; GET /_emulator/faults lists the rules in force", code="NotFound")


@bp.get("/faults/<rule_id>")
def get_fault(rule_id: str) -> dict[str, Any]:
    rule = _state().faults.get(rule_id)
    if rule is None:
        raise _missing_rule(rule_id)
    return rule.json()


@bp.delete("/faults/<rule_id>")
def delete_fault(rule_id: str) -> Response:
    if not _state().faults.delete(rule_id):
        raise _missing_rule(rule_id)
    return _no_content()


# journal -------------------------------------------------------------------------------------------------


@bp.get("/journal")
def journal() -> dict[str, Any]:
    return _state().journal.json(method=request.args.get("method"), path=request.args.get("path"))


@bp.delete("/journal")
def clear_journal() -> Response:
    _state().journal.clear()
    return _no_content()


# billing-status override ---------------------------------------------------------------------------------


@bp.get("/billing/status")
def billing_override() -> dict[str, Any]:
    override = override_slot(current()).get()
    return {"override": override.json() if override else None}


@bp.put("/billing/status")
def set_billing_override() -> dict[str, Any]:
    override = parse_override(read_json(MAX_BODY_BYTES))
    override_slot(current()).set(override)
    return {"override": override.json()}


@bp.delete("/billing/status")
def clear_billing_override() -> Response:
    override_slot(current()).set(None)
    return _no_content()


# jobs ----------------------------------------------------------------------------------------------------


@bp.get("/jobs/progression")
def progression() -> dict[str, Any]:
    return current().jobs.progression.json()


@bp.put("/jobs/progression")
def set_progression() -> dict[str, Any]:
    body = Body(read_json(MAX_BODY_BYTES), ("mode", "seconds"))
    mode: str = require(
        body.string("mode", choices=PROGRESSION_MODES), "mode", f"one of {', '.join(PROGRESSION_MODES)}"
    )
    seconds = body.number("seconds", 0, MAX_TIMED_SECONDS, unit=" seconds")
    if seconds is not None and mode != "timed":
        raise invalid(f"seconds is the wait of timed mode; {mode} mode takes none", target="seconds")
    resource = current()
    resource.jobs.progression = Progression(mode, seconds or 0.0)
    return resource.jobs.progression.json()


@bp.post("/jobs/step")
def step() -> dict[str, Any]:
    body = Body(read_json(MAX_BODY_BYTES, optional=True), ("jobId",))
    job_id = body.string("jobId", max_length=200)
    released = current().jobs.step(job_id)
    if job_id is not None and not released:
        raise NotFound(
            f"job {job_id!r} is not waiting for a step: only jobs accepted under manual progression wait, until a step "
            "releases them",
            code="NotFound",
            target="jobId",
        )
    return {"released": released}


# clock ---------------------------------------------------------------------------------------------------


def _clock_json(resource: Resource) -> dict[str, Any]:
    return {"now": iso(resource.clock.now()), "offsetSeconds": resource.clock.offset.total_seconds()}


@bp.get("/clock")
def clock() -> dict[str, Any]:
    return _clock_json(current())


@bp.put("/clock")
def set_clock() -> dict[str, Any]:
    body = Body(read_json(MAX_BODY_BYTES), ("offsetSeconds", "now"))
    if ("offsetSeconds" in body) == ("now" in body):
        raise invalid("give exactly one of offsetSeconds (seconds to add to real time) and now (an ISO-8601 date-time)")
    limit = MAX_OFFSET.total_seconds()
    seconds = body.number("offsetSeconds", -limit, limit, unit=" seconds")
    if seconds is not None:
        offset = timedelta(seconds=seconds)
    else:
        text: str = require(body.string("now", max_length=40), "now", "an ISO-8601 date-time")
        try:
            offset = parse_iso(text) - datetime.now(UTC)
        except ValueError:
            raise invalid(
                f"now must be an ISO-8601 date-time such as 2026-03-01T00:00:00Z, not {text!r}", target="now"
            ) from None
        if abs(offset) > MAX_OFFSET:
            raise invalid(f"now must be within {MAX_OFFSET.days} days of today, not {text!r}", target="now")
    resource = current()
    resource.clock.set_offset(offset)
    return _clock_json(resource)


def init_app(app: Flask) -> None:
    """Install the control plane's state and wrap the app in the fault and journal interceptor."""
    resource: Resource = app.extensions["cner"]
    state = ControlState(Faults(), Journal(), time.monotonic())
    resource.extras["control"] = state
    app.wsgi_app = Interceptor(app, resource.clock, state.faults, state.journal)  # type: ignore[method-assign]
