"""Reading and checking JSON request bodies, shared by the authoring, metering and control-plane routes.

Every refusal is a 400 with the service's error body whose ``target`` names the field and whose message says
what would be accepted, so a caller fixes a bad body from the answer alone. The body is read with a byte limit
before it is parsed: a client cannot make the emulator buffer or parse more than an operation accepts, and
``NaN``/``Infinity`` or nesting deep enough to exhaust the parser are refused like any other bad JSON.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NoReturn

from flask import request

from emulator.web.errors import BadRequest, PayloadTooLarge, invalid


def _no_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def read_body(limit: int, *, refusal: str | None = None, target: str = "body") -> bytes:
    """The request's body, refused with 413 (``refusal``, naming ``target``) if it holds more than ``limit``
    bytes: by its declared length before reading, and by what arrives for a chunked body, never reading more.
    """
    message = refusal or f"the body may hold at most {limit} bytes; send less"
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge(message, target=target)
    data: bytes = request.stream.read(limit + 1)
    if len(data) > limit:
        raise PayloadTooLarge(message, target=target)
    return data


def read_json(limit: int, *, optional: bool = False) -> Any:
    """The request's JSON body, at most ``limit`` bytes; ``{}`` for an empty body when it is ``optional``.

    :raises PayloadTooLarge: the body is longer than ``limit``.
    :raises BadRequest: the body is not JSON.
    """
    data = read_body(limit)
    if optional and not data.strip():
        return {}
    try:
        return json.loads(data, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise BadRequest(
            f"the body is not valid JSON ({exc}); send a JSON document encoded in UTF-8",
            code="InvalidRequest",
            inner="InvalidRequestBodyFormat",
            target="body",
        ) from exc


def describe(value: Any) -> str:
    """A short rendering of a refused value for a message (long values are cut)."""
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _plain(bound: float) -> str:
    """A bound as people write it: ``3153600000``, ``0.5``, not ``3.1536e+09``."""
    return str(int(bound)) if float(bound).is_integer() else str(bound)


def malformed(expected: str, value: Any) -> BadRequest:
    """The refusal of a body that is JSON but not the kind of value the operation takes."""
    return BadRequest(
        f"the body must be {expected}, not {describe(value)}",
        code="InvalidRequest",
        inner="InvalidRequestBodyFormat",
        target="body",
    )


class Body:
    """A JSON object body whose fields are taken out one by one, each checked, with unknown fields refused."""

    def __init__(self, value: Any, allowed: Iterable[str]) -> None:
        if not isinstance(value, dict):
            raise malformed("a JSON object", value)
        allowed = tuple(allowed)
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise invalid(f"unknown field {unknown[0]!r}; this body accepts {', '.join(allowed)}", target=unknown[0])
        self.fields: dict[str, Any] = value

    def __contains__(self, name: str) -> bool:
        return self.fields.get(name) is not None

    def number(self, name: str, low: float, high: float, *, unit: str = "") -> float | None:
        """A finite number in ``[low, high]`` (booleans are not numbers), or None when absent or null."""
        value = self.fields.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
            raise invalid(
                f"{name} must be a number from {_plain(low)} to {_plain(high)}{unit}, not {describe(value)}",
                target=name,
            )
        return float(value)

    def integer(self, name: str, low: int, high: int, *, unit: str = "") -> int | None:
        """An integer in ``[low, high]`` (``3.0`` is not an integer), or None when absent or null."""
        value = self.fields.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise invalid(f"{name} must be an integer from {low} to {high}{unit}, not {describe(value)}", target=name)
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.fields.get(name)
        if value is None or isinstance(value, bool):
            return value
        raise invalid(f"{name} must be true or false, not {describe(value)}", target=name)

    def string(self, name: str, *, max_length: int = 200, choices: Iterable[str] = ()) -> str | None:
        """A non-empty string (one of ``choices`` when given), or None when absent or null."""
        value = self.fields.get(name)
        if value is None:
            return None
        choices = tuple(choices)
        if choices and value not in choices:
            raise invalid(f"{name} must be one of {', '.join(choices)}, not {describe(value)}", target=name)
        if not isinstance(value, str) or not value or len(value) > max_length:
            raise invalid(
                f"{name} must be a string of 1 to {max_length} characters, not {describe(value)}", target=name
            )
        return value


def require(value: Any | None, name: str, what: str) -> Any:
    """``value`` unless it is None, when the field ``name`` (described by ``what``) was required."""
    if value is None:
        raise invalid(f"{name} is required: {what}", target=name)
    return value
