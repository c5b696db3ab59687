"""The app factory of the reimplemented Custom NER container.

Blueprints: ``analyze`` (``/language/...``, the prediction API), ``probes`` (``/``, ``/ready``,
``/status``), ``swagger`` (``/swagger``, the API reference). Every error is Azure's error body.
"""

from __future__ import annotations

from flask import Flask

from emulator.web import errors

from .analyze import routes as analyze
from .probes import bp as probes
from .runtime import EXTENSION, ContainerRuntime
from .swagger import bp as swagger


def create_container_app(runtime: ContainerRuntime) -> Flask:
    app = Flask("cner_container")
    app.extensions[EXTENSION] = runtime
    app.url_map.merge_slashes = False
    app.json.sort_keys = False  # type: ignore[attr-defined]
    errors.register(app)
    app.register_blueprint(analyze.bp)
    app.register_blueprint(probes)
    app.register_blueprint(swagger)
    return app
