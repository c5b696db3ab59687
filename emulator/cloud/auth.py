"""The subscription-key check every route but the health probe passes through.

Keys are compared with ``hmac.compare_digest`` against every configured key (no early exit), so neither
the answer time nor the key order tells a caller how close a guess was. Keys never reach a log: the request
journal and the usage ledger name a key by its slot (``key1``, ``key2``), as the portal does.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence

from flask import current_app, request

from emulator.web.errors import Unauthorized

KEY_HEADER = "Ocp-Apim-Subscription-Key"


def key_slot(keys: Sequence[str], presented: str | None) -> str | None:
    """``key1``, ``key2``, ... for a configured key, else None; constant time in the presented key."""
    found = None
    candidate = (presented or "").encode()
    for number, key in enumerate(keys, start=1):
        if hmac.compare_digest(candidate, key.encode()) and presented:
            found = f"key{number}"
    return found


def require_key() -> str:
    """The slot of the request's key.

    :raises Unauthorized: the header is missing or holds no key of this resource.
    """
    slot = key_slot(current_app.config["CNER_API_KEYS"], request.headers.get(KEY_HEADER))
    if slot is None:
        raise Unauthorized()
    return slot
