"""Validate a job answer against an official ``analyzetext.json`` (clause schema/openapi, option ``--openapi``).

Microsoft's runtime specs are Swagger 2.0: their ``definitions`` are Draft 4 JSON Schema, but polymorphism is a
Swagger ``discriminator`` that JSON Schema ignores (azure-contract.md §10). So a job is checked twice over: the
whole body against ``AnalyzeTextJobState`` (which types ``tasks.items`` only as the ``AnalyzeTextLROResult`` base),
and each task item against the concrete definition its ``kind`` names, found through ``x-ms-discriminator-value``
rather than by name because the names of the inner definitions differ between versions (2023-04-15-preview's
``CustomEntitiesResultWithDocumentDetectedLanguage``, ...). Works for the saved 2022-05-01, 2023-04-01,
2023-04-15-preview and 2025-11-01 files.

::

    spec = OpenApiSpec.load(Path("analyzetext.json"))
    spec.validate(job)  # raises ContractSchemaError listing every violation with its JSON path
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator  # type: ignore[import-untyped]

from conformance.schema_check import ContractSchemaError, Violation, format_checker, violations_of

JOB_DEFINITION = "AnalyzeTextJobState"
TASK_BASE = "AnalyzeTextLROResult"
CUSTOM_NER_KIND = "CustomEntityRecognitionLROResults"


class OpenApiSpec:
    """The definitions of one analyzetext.json, and which definition each task result ``kind`` must match.

    :param name: what failure messages call it (the file and its version).
    :param version: ``info.version``, the api-version the file describes.
    :param task_definitions: task result ``kind`` (discriminator value) -> the definition of that sub-type.
    """

    def __init__(self, name: str, version: str, definitions: dict[str, Any], task_definitions: dict[str, str]) -> None:
        self.name = name
        self.version = version
        self.definitions = definitions
        self.task_definitions = task_definitions
        self._validators: dict[str, Any] = {}

    @classmethod
    def load(cls, path: Path) -> OpenApiSpec:
        """Read ``path``; a ValueError if it is not a runtime analyzetext.json with a Custom NER task result."""
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or JOB_DEFINITION not in document.get("definitions", {}):
            raise ValueError(f"{path}: no definition {JOB_DEFINITION}; give the runtime analyzetext.json")
        definitions: dict[str, Any] = document["definitions"]
        version = str(document.get("info", {}).get("version", "unknown"))
        task_definitions = {
            str(definition["x-ms-discriminator-value"]): name
            for name, definition in definitions.items()
            if "x-ms-discriminator-value" in definition and _extends(definition, TASK_BASE)
        }
        if CUSTOM_NER_KIND not in task_definitions:
            raise ValueError(f"{path}: no {TASK_BASE} sub-type for {CUSTOM_NER_KIND}")
        return cls(f"{path.name} {version}", version, definitions, task_definitions)

    def _validator(self, definition: str) -> Any:
        if definition not in self._validators:
            # "#/definitions/..." resolves against this root, whose definitions are the file's.
            schema = {"$ref": f"#/definitions/{definition}", "definitions": self.definitions}
            self._validators[definition] = Draft4Validator(schema, format_checker=format_checker())
        return self._validators[definition]

    def violations(self, job: object) -> list[Violation]:
        """Every violation of the job state and of each task item's concrete definition, by JSON path."""
        found = violations_of(self._validator(JOB_DEFINITION), job)
        tasks = job.get("tasks") if isinstance(job, dict) else None
        items = tasks.get("items") if isinstance(tasks, dict) else None
        for index, item in enumerate(items if isinstance(items, list) else []):
            kind = item.get("kind") if isinstance(item, dict) else None
            definition = self.task_definitions.get(kind) if isinstance(kind, str) else None
            if definition is not None:
                found += violations_of(self._validator(definition), item, ("tasks", "items", index))
        return sorted(found, key=lambda violation: (violation.path, violation.message))

    def validate(self, job: object) -> None:
        """Raise ContractSchemaError (an AssertionError) listing every violation, if there is any."""
        found = self.violations(job)
        if found:
            raise ContractSchemaError(self.name, found)


def _extends(definition: dict[str, Any], base: str) -> bool:
    """Whether a Swagger definition is a sub-type of ``base`` (``allOf: [{$ref: #/definitions/base}]``)."""
    return any(part.get("$ref") == f"#/definitions/{base}" for part in definition.get("allOf", []))
