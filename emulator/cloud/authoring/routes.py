"""Authoring routes (in progress)."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("authoring", __name__, url_prefix="/language/authoring/analyze-text")


def init_app(app: Flask) -> None:
    """Register the job runners."""
