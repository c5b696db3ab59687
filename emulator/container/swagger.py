"""``GET /swagger``: the container's API reference with "Try it out", as Microsoft's containers offer it
(azure-contract.md §3.3).

The document is ``openapi.json`` beside this module, kept in the repository and checked by the tests, so
what it promises is reviewed like code. The page is Swagger UI from the ``swagger_ui_bundle`` package,
served by this blueprint: a container often runs where no CDN is reachable, so nothing is fetched from the
network (the online validator badge is switched off too). ``servers: [{"url": "/"}]`` in the document makes
"Try it out" call the container that served the page.

::

    GET /swagger, /swagger/          the Swagger UI page
    GET /swagger/openapi.json        the OpenAPI 3.0 document
    GET /swagger/ui/<file>           the page's scripts, styles and icons
"""

from __future__ import annotations

import functools
import json
from importlib import resources

from flask import Blueprint, Response, send_from_directory, url_for
from swagger_ui_bundle import swagger_ui_path

from emulator.web.errors import NotFound

bp = Blueprint("swagger", __name__, url_prefix="/swagger")

ASSETS = frozenset(
    {
        "swagger-ui.css",
        "swagger-ui.css.map",
        "swagger-ui-bundle.js",
        "swagger-ui-bundle.js.map",
        "swagger-ui-standalone-preset.js",
        "swagger-ui-standalone-preset.js.map",
        "favicon-16x16.png",
        "favicon-32x32.png",
    }
)
"""The bundle's files the page uses. Its demo ``index.html`` and ``swagger-initializer.js`` are not served:
they load the Petstore example from the internet."""


@functools.cache
def openapi_document() -> bytes:
    """The OpenAPI document as shipped in the package, read on first use."""
    return (resources.files("emulator.container") / "openapi.json").read_bytes()


@bp.get("")
@bp.get("/")
def page() -> Response:
    # URLs come from url_for, so the page also works behind a proxy that mounts the container under a prefix.
    def asset(name: str) -> str:
        return url_for("swagger.ui_asset", file=name)

    settings = {
        "url": url_for("swagger.document"),
        "dom_id": "#swagger-ui",
        "deepLinking": True,
        "validatorUrl": None,
    }
    html = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Custom NER container: API reference</title>
<link rel="stylesheet" href="{asset("swagger-ui.css")}">
<link rel="icon" type="image/png" href="{asset("favicon-32x32.png")}" sizes="32x32">
<link rel="icon" type="image/png" href="{asset("favicon-16x16.png")}" sizes="16x16">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{asset("swagger-ui-bundle.js")}"></script>
<script src="{asset("swagger-ui-standalone-preset.js")}"></script>
<script>
window.ui = SwaggerUIBundle(Object.assign({json.dumps(settings)}, {{
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
  plugins: [SwaggerUIBundle.plugins.DownloadUrl],
  layout: "StandaloneLayout"
}}));
</script>
</body>
</html>
"""
    return Response(html, mimetype="text/html")


@bp.get("/openapi.json")
def document() -> Response:
    return Response(openapi_document(), mimetype="application/json")


@bp.get("/ui/<path:file>")
def ui_asset(file: str) -> Response:
    if file not in ASSETS:
        raise NotFound(f"the API reference has no file {file!r}; open /swagger", code="NotFound")
    return send_from_directory(str(swagger_ui_path), file)
