"""Service-wide lists: ``global/languages`` and ``global/training-config-versions``.

The language list is the engine's (``emulator/ner/languages.py``); the training
config version is the one Azure lists for Custom NER, with the expiry date the real service reported for
its models in the recorded deployment (sdk-clients.md §6), used for every model and deployment here.
"""

from __future__ import annotations

from typing import Any

from flask import request

from emulator.ner import TRAINING_CONFIG_VERSIONS
from emulator.ner.languages import LANGUAGES
from emulator.web.errors import invalid

from ..paging import page
from .blueprint import api_version, bp

MODEL_EXPIRATION_DATE = "2027-10-27"
PROJECT_KINDS = (
    "CustomSingleLabelClassification",
    "CustomMultiLabelClassification",
    "CustomEntityRecognition",
    "CustomAbstractiveSummarization",
    "CustomHealthcare",
    "CustomTextSentiment",
)


def _project_kind(required: bool) -> str:
    kind = request.args.get("projectKind")
    if kind is None and required:
        raise invalid(
            f"projectKind is required in this api-version; use one of {', '.join(PROJECT_KINDS)}", target="projectKind"
        )
    kind = kind or PROJECT_KINDS[0]
    if kind not in PROJECT_KINDS:
        raise invalid(f"projectKind {kind!r} is unknown; use one of {', '.join(PROJECT_KINDS)}", target="projectKind")
    return kind


@bp.get("/projects/global/languages")
def supported_languages() -> dict[str, Any]:
    version = api_version()
    _project_kind(required=False)
    return page([{"languageName": name, "languageCode": code} for name, code in LANGUAGES], version)


@bp.get("/projects/global/training-config-versions")
def training_config_versions() -> dict[str, Any]:
    version = api_version()
    _project_kind(required=version.nullable_next_link)
    items = [
        {"trainingConfigVersion": v, "modelExpirationDate": MODEL_EXPIRATION_DATE} for v in TRAINING_CONFIG_VERSIONS
    ]
    return page(items, version)
