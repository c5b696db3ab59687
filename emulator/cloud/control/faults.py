"""Fault rules: which requests get an error status, a delay or a dropped connection, and how often.

A rule is scoped by HTTP method and a path glob and has any of: an error ``status`` (answered with the
service's error body and an optional ``Retry-After``), a ``latencyMs`` delay, a ``drop`` of the connection
(no answer at all). It fires with ``probability`` and, when ``times`` is set, only that many times, then
disappears (MockServer's ``Times``). Rules are tried in creation order; the first that matches and fires
shapes the answer.

Probabilities are reproducible (MockServer's chaos ``seed``): each rule draws from its own generator,
seeded by the rule's ``seed`` or, without one, from the registry's generator, which the control plane's
``seed`` reseeds. After a seed, the same requests in the same order meet the same faults.
"""

from __future__ import annotations

import fnmatch
import random
import threading
from dataclasses import dataclass, field
from typing import Any

from emulator.web.bodies import Body, describe, require
from emulator.web.errors import invalid

METHODS = ("*", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
MAX_LATENCY_MS = 120_000
MAX_RETRY_AFTER = 86_400

ERROR_CODES = {
    400: "InvalidRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
    504: "Timeout",
}
"""The service's error code for an injected status (azure-contract.md §2.5); other statuses use the 5xx/4xx one."""

RULE_FIELDS = (
    "method",
    "path",
    "status",
    "errorCode",
    "message",
    "retryAfter",
    "latencyMs",
    "drop",
    "probability",
    "seed",
    "times",
)


@dataclass
class FaultRule:
    id: str
    method: str
    path: str
    status: int | None = None
    error_code: str | None = None
    message: str | None = None
    retry_after: int | None = None
    latency_ms: float = 0.0
    drop: bool = False
    probability: float = 1.0
    seed: int | None = None
    times: int | None = None
    """Firings left; None for no limit."""
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, method: str, path: str) -> bool:
        return self.method in ("*", method) and fnmatch.fnmatchcase(path, self.path)

    def error_body(self) -> dict[str, Any]:
        """The service's error body this rule answers with (only for rules with a ``status``)."""
        assert self.status is not None
        code = self.error_code or ERROR_CODES.get(
            self.status, "InternalServerError" if self.status >= 500 else "InvalidRequest"
        )
        message = self.message or f"Injected fault {self.id}: {self.method} {self.path} answers {self.status}."
        return {"error": {"code": code, "message": message}}

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "path": self.path,
            "status": self.status,
            "errorCode": self.error_code,
            "message": self.message,
            "retryAfter": self.retry_after,
            "latencyMs": self.latency_ms,
            "drop": self.drop,
            "probability": self.probability,
            "seed": self.seed,
            "times": self.times,
            "fired": self.fired,
        }


def parse_rule(value: Any, rule_id: str) -> FaultRule:
    """A rule from a control-plane body.

    :raises BadRequest: a field is missing, of the wrong type or out of range, or the effects contradict.
    """
    body = Body(value, RULE_FIELDS)
    method = (body.string("method", max_length=10) or "*").upper()
    if method not in METHODS:
        raise invalid(f"method must be one of {', '.join(METHODS)}, not {describe(value['method'])}", target="method")
    path = require(body.string("path", max_length=500), "path", "a glob over the request path, e.g. /metering/*")
    if not path.startswith(("/", "*")):
        raise invalid(f"path must be a glob starting with '/' or '*', not {describe(path)}", target="path")
    probability = body.number("probability", 0, 1)
    rule = FaultRule(
        rule_id,
        method,
        path,
        status=body.integer("status", 400, 599),
        error_code=body.string("errorCode", max_length=100),
        message=body.string("message", max_length=1000),
        retry_after=body.integer("retryAfter", 0, MAX_RETRY_AFTER, unit=" seconds"),
        latency_ms=body.number("latencyMs", 0, MAX_LATENCY_MS, unit=" milliseconds") or 0.0,
        drop=bool(body.boolean("drop")),
        probability=1.0 if probability is None else probability,
        seed=body.integer("seed", 0, 2**64 - 1),
        times=body.integer("times", 1, 1_000_000),
    )
    if rule.probability <= 0:
        raise invalid("probability must be above 0 (a rule that never fires does nothing)", target="probability")
    if rule.status is None and not rule.drop and not rule.latency_ms:
        raise invalid("a rule needs an effect: status, latencyMs above 0 or drop true", target="status")
    if rule.status is not None and rule.drop:
        raise invalid("a rule either answers with status or drops the connection; remove one of them", target="drop")
    if rule.status is None and any(k in body for k in ("errorCode", "message", "retryAfter")):
        raise invalid("errorCode, message and retryAfter shape an error answer; they need status", target="status")
    return rule


class Faults:
    """The rules in force; safe to share between request threads."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._lock = threading.Lock()
        self._rng = random.Random()  # noqa: S311 - reproducible chaos, not secrecy
        self._next_id = 1

    def add(self, value: Any) -> FaultRule:
        """Parse and install a rule from a control-plane body (see ``parse_rule``)."""
        with self._lock:
            rule = parse_rule(value, f"fault-{self._next_id}")
            self._next_id += 1
            self._seed_rule(rule)
            self._rules.append(rule)
            return rule

    def _seed_rule(self, rule: FaultRule) -> None:
        rule.rng.seed(rule.seed if rule.seed is not None else self._rng.getrandbits(64))

    def seed(self, seed: int) -> None:
        """Make every probability draw from now on reproducible, for existing rules and new ones."""
        with self._lock:
            self._rng.seed(seed)
            for rule in self._rules:
                self._seed_rule(rule)

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    def get(self, rule_id: str) -> FaultRule | None:
        with self._lock:
            return next((rule for rule in self._rules if rule.id == rule_id), None)

    def delete(self, rule_id: str) -> bool:
        with self._lock:
            kept = [rule for rule in self._rules if rule.id != rule_id]
            found = len(kept) < len(self._rules)
            self._rules = kept
            return found

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()

    def draw(self, method: str, path: str) -> FaultRule | None:
        """The rule that fires for a request, if one matches and fires; counts the firing."""
        with self._lock:
            for rule in self._rules:
                if not rule.matches(method, path):
                    continue
                if rule.probability < 1 and rule.rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.times is not None:
                    rule.times -= 1
                    if rule.times == 0:
                        self._rules.remove(rule)
                return rule
        return None
