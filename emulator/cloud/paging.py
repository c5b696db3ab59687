"""Paged lists (``{"value": [...], "nextLink": ...}``) with ``top``, ``skip`` and ``maxpagesize``.

``nextLink`` is an absolute URL to the next page built from the request's own URL, so a client follows it
as it is. Which versions carry ``nextLink: null`` on the last page is ``ApiVersion.nullable_next_link``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from flask import request

from emulator.web.errors import invalid

from .versions import ApiVersion

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


def _count(name: str, default: int | None) -> int | None:
    raw = request.args.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 0 or (name == "maxpagesize" and int(raw) == 0):
        raise invalid(
            f"{name} must be a {'positive' if name == 'maxpagesize' else 'non-negative'} integer, not {raw!r}",
            target=name,
        )
    return int(raw)


def page(items: Sequence[Any], version: ApiVersion) -> dict[str, Any]:
    """The page of ``items`` the request asks for."""
    skip = _count("skip", 0) or 0
    top = _count("top", None)
    size = min(_count("maxpagesize", DEFAULT_PAGE_SIZE) or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    end = len(items) if top is None else min(len(items), skip + top)
    stop = min(end, skip + size)
    body: dict[str, Any] = {"value": list(items[skip:stop])}
    if stop < end:
        args = request.args.to_dict()
        args["skip"] = str(stop)
        if top is not None:
            args["top"] = str(end - stop)
        body["nextLink"] = f"{request.base_url}?{urlencode(args)}"
    elif version.nullable_next_link:
        body["nextLink"] = None
    return body
