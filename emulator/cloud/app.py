"""The app factory of the emulated Language resource (``cner cloud``).

One blueprint per area, each readable on its own:

* ``authoring``  ``/language/authoring/analyze-text/...``: projects, import/export, training, models,
  deployments, exported models for the container
* ``storage``    ``/_emulator/storage/...`` and ``/_emulator/models/...``: the blob containers Azure would
  read documents from and serve exported models from
* ``billing``    ``/metering/...``: the key check and usage ingestion containers report to
* ``control``    ``/_emulator/...``: health, reset, seed, faults, journal, job progression, clock

Every route except the health probe needs the subscription key.
"""

from __future__ import annotations

from flask import Flask, g, request

from emulator.web import errors

from . import auth
from .authoring import routes as authoring
from .billing import routes as billing
from .control import routes as control
from .resource import CloudConfig, Resource
from .storage import routes as storage

MAX_BODY_BYTES = 64 * 1024 * 1024
"""Largest request body (an ``:import`` of a big project); Azure documents no authoring limit."""

PUBLIC_ENDPOINTS = frozenset({"control.health"})


def create_app(config: CloudConfig) -> Flask:
    """A ready app over ``config.data_dir``; jobs a previous run left unfinished are queued again."""
    app = Flask(__name__)
    app.config.update(CNER_API_KEYS=config.api_keys, MAX_CONTENT_LENGTH=MAX_BODY_BYTES)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    # Werkzeug answers "//" in a path with an HTML 308 redirect that no error handler sees (a name of "/x"
    # arrives as "%2Fx" and decodes to "//x"); Azure has no such redirect, so such a path is an unknown one.
    app.url_map.merge_slashes = False
    resource = Resource.open(config)
    app.extensions["cner"] = resource
    errors.register(app)

    @app.before_request
    def _authenticate() -> None:
        if request.endpoint not in PUBLIC_ENDPOINTS:
            g.key_slot = auth.require_key()

    control.init_app(app)
    for blueprint in (authoring.bp, storage.bp, billing.bp, control.bp):
        app.register_blueprint(blueprint)
    authoring.init_app(app)
    resource.jobs.resume()
    return app


def close_app(app: Flask) -> None:
    """Stop the app's job workers and close its database (unfinished jobs stay queued for the next start)."""
    resource: Resource = app.extensions["cner"]
    resource.jobs.close()
    resource.store.close()
