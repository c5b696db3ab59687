"""The ``api-version`` query parameter every Azure Language operation requires (azure-contract.md §8)."""

from __future__ import annotations

from collections.abc import Sequence

from flask import request

from .errors import BadRequest


def requested_api_version(supported: Sequence[str], served_by: str) -> str:
    """The request's ``api-version``, one of ``supported``.

    :raises BadRequest: it is missing, or not one of ``supported`` (the message names ``served_by`` and lists
        them), with ``target`` ``api-version``.
    """
    name = request.args.get("api-version")
    listed = ", ".join(supported)
    if not name:
        raise BadRequest(
            f"The api-version query parameter is required; use one of {listed}.",
            inner="InvalidParameterValue",
            target="api-version",
        )
    if name not in supported:
        raise BadRequest(
            f"The api-version {name!r} is not supported by {served_by}; use one of {listed}.",
            inner="InvalidParameterValue",
            target="api-version",
        )
    return name
