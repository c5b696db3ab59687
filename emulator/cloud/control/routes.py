"""Control-plane routes (placeholder: health only, until the control plane lands)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask

bp = Blueprint("control", __name__, url_prefix="/_emulator")


@bp.get("/health")
def health() -> dict[str, Any]:
    return {"status": "running"}


def init_app(app: Flask) -> None:
    """Hooks that wrap every request (fault injection, journal)."""
