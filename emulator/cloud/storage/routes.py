"""The emulated blob storage: document containers to import from, and exported models to download.

Azure reads a project's texts from the blob container named by ``storageInputContainerName`` and hands the
container image its model through the download URLs of an exported model's manifest. Here both are folders
of the data folder::

    PUT /_emulator/storage/{container}/{location}      upload one document (raw body, at most 512 kB)
    GET /_emulator/storage/{container}/{location}      read it back
    GET /_emulator/storage/{container}                 list the container's documents
    GET /_emulator/models/{project}/{exportedModel}/{file}   a file of an exported model (manifest contentUri)

Container names and locations follow Azure's naming rules (``ner.naming``) before they touch the disk.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, send_file

from emulator.ner import naming
from emulator.ner.documents import MAX_DOCUMENT_BYTES
from emulator.web.bodies import read_body
from emulator.web.errors import NotFound, invalid

from ..resource import current

bp = Blueprint("storage", __name__, url_prefix="/_emulator")

_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


def container_dir(container: str) -> Path:
    """The folder of blob container ``container``.

    :raises BadRequest: not a valid container name.
    """
    if not naming.CONTAINER_NAME(container):
        raise invalid(naming.CONTAINER_NAME.explain(container, "container name"), target="container")
    return current().layout.container(container)


def _document_path(container: str, location: str) -> Path:
    if not naming.DOCUMENT_LOCATION(location):
        raise invalid(naming.DOCUMENT_LOCATION.explain(location, "document location"), target="location")
    return container_dir(container).joinpath(*location.split("/"))


@bp.put("/storage/<container>/<path:location>")
def upload(container: str, location: str) -> tuple[dict[str, Any], int]:
    path = _document_path(container, location)
    refusal = f"a document may hold at most {MAX_DOCUMENT_BYTES} bytes (128,000 characters); split {location!r}"
    data = read_body(MAX_DOCUMENT_BYTES, refusal=refusal, target="location")
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    handle, temporary = tempfile.mkstemp(prefix=".upload.", dir=path.parent)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    return {"container": container, "location": location, "size": len(data)}, 201 if created else 200


@bp.get("/storage/<container>/<path:location>")
def download(container: str, location: str) -> Response:
    path = _document_path(container, location)
    if not path.is_file():
        raise NotFound(f"container {container!r} holds no document {location!r}", code="NotFound", target="location")
    return send_file(path, mimetype="text/plain")


@bp.get("/storage/<container>")
def listing(container: str) -> dict[str, Any]:
    root = container_dir(container)
    locations = sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and not p.name.startswith(".")
    )
    return {"container": container, "value": locations}


@bp.get("/models/<project>/<exported_model>/<name>")
def model_file(project: str, exported_model: str, name: str) -> Response:
    valid = all(naming.RESOURCE_NAME(n) for n in (project, exported_model)) and _FILE_NAME.fullmatch(name)
    path = current().layout.exported_model(project, exported_model) / name if valid else None
    if path is None or not path.is_file():
        raise NotFound(
            f"exported model {exported_model!r} of project {project!r} has no file {name!r}; "
            "read the exported model's manifest for the file URLs",
            code="NotFound",
        )
    return send_file(path, mimetype="application/octet-stream")
