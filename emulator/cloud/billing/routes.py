"""Billing routes (placeholder until the billing protocol lands)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("billing", __name__, url_prefix="/metering")
