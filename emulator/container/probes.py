"""The container's own endpoints besides the API (azure-contract.md §3.3): ``/`` (home page), ``/ready``
(the readiness probe) and ``/status`` (the key's validity, from the last Billing answer).

Microsoft documents what each is for but not its body; ours: ``/ready`` answers ``ready`` or the Azure
error body that says what it waits for, and ``/status`` the key's last billing status as JSON
(``apiStatus``/``apiStatusMessage``, the names Microsoft's containers use) with the outage counters.
Neither sends a query or a billing request of its own, so probes cost nothing.
"""

from __future__ import annotations

import html

from flask import Blueprint, Response, jsonify

from .billing_client import REFUSED, BillingStatus
from .runtime import current

bp = Blueprint("probes", __name__)

ENDPOINTS = (
    ("GET", "/", "this page"),
    ("GET", "/ready", "200 once the model is loaded and Billing allows serving, else 503"),
    ("GET", "/status", "the key's last status at the Billing endpoint"),
    ("GET", "/swagger", "the API reference, with Try it out"),
    ("POST", "/language/analyze-text/jobs?api-version=2023-04-01", "submit a CustomEntityRecognition job"),
    ("GET", "/language/analyze-text/jobs/{jobId}?api-version=2023-04-01", "read a job and its results"),
    ("POST", "/language/analyze-text/jobs/{jobId}:cancel?api-version=2023-04-01", "cancel a job"),
)


@bp.get("/")
def home() -> Response:
    runtime = current()
    model = runtime.model
    rows = "".join(
        f"<tr><td>{m}</td><td><code>{html.escape(p)}</code></td><td>{html.escape(d)}</td></tr>" for m, p, d in ENDPOINTS
    )
    refusal = runtime.refusal()
    state = "ready" if refusal is None else html.escape(refusal.message)
    described = (
        f"model <b>{html.escape(model.info.model_label)}</b> of project <b>{html.escape(model.info.project_name)}</b>"
        f" ({len(model.info.categories)} entity categories, language {html.escape(model.info.language)})"
        if model
        else "model not loaded yet"
    )
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Custom NER container</title></head>
<body><h1>Custom NER container</h1>
<p>cner-emulator {html.escape(runtime.version)}: serves exported model
<b>{html.escape(runtime.settings.exported_model_name)}</b>, {described}.</p>
<p>State: {state}</p>
<table><tr><th>method</th><th>path</th><th>what</th></tr>{rows}</table>
</body></html>
"""
    return Response(page, mimetype="text/html")


@bp.get("/ready")
def ready() -> Response:
    refusal = current().refusal()
    if refusal is not None:
        response = refusal.response()
        response.status_code = 503
        return response
    return Response("ready\n", mimetype="text/plain")


@bp.get("/status")
def status() -> Response:
    gate = current().gate
    response = jsonify({"service": "customner", **gate.snapshot()})
    if gate.status in (BillingStatus.VALID, BillingStatus.OUT_OF_QUOTA):
        response.status_code = 200  # the key is valid (an exhausted quota does not make it invalid)
    elif gate.status in REFUSED:
        response.status_code = 401
    else:
        response.status_code = 503  # not verified yet, or the Billing endpoint does not answer
    return response
