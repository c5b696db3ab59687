"""Validate JSON bodies against a folder of our Draft 2020-12 JSON Schemas, reporting every violation by JSON path.

The suite judges a target's answers against schemas written from the public contract (``schemas/runtime``) and the
emulated cloud's against ``schemas/authoring``; both folders are read the same way, so the machinery lives here
once and knows nothing about either::

    RUNTIME.validate("job-state", body)   # raises ContractSchemaError listing every violation with its JSON path
    RUNTIME.violations("error", body)     # the same violations as a list (empty when the body conforms)

A folder holds ``<name>.schema.json`` files, each with an ``$id``. All of them are registered in one
``referencing.Registry`` under their ``$id``, so ``$ref`` works across files (``common.schema.json#/$defs/...``).
Formats date-time, date, uuid and uri are checked; date-time and uri are implemented here so the check does not
depend on jsonschema's optional extras (rfc3339-validator, rfc3986-validator) being installed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jsonschema import Draft202012Validator, FormatChecker  # type: ignore[import-untyped]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

SUFFIX = ".schema.json"
SCHEMAS_DIR = Path(__file__).with_name("schemas")


# Formats -----------------------------------------------------------------------------------------------------------

_DATE_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))",
    re.ASCII,
)
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:(?:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*", re.ASCII)


def is_date_time(instance: object) -> bool:
    """RFC 3339 ``date-time``: full date, ``T``, time with optional fraction, and ``Z`` or a numeric offset."""
    if not isinstance(instance, str):
        return True
    match = _DATE_TIME.fullmatch(instance)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(group) for group in match.groups()[:6])
    try:
        date(year, month, day)
    except ValueError:
        return False
    offset_ok = match[7] is None or (int(match[7]) <= 23 and int(match[8]) <= 59)
    return hour <= 23 and minute <= 59 and second <= 60 and offset_ok


def is_uri(instance: object) -> bool:
    """RFC 3986 ``URI``: an absolute URI (scheme required); a relative reference such as ``/language/...`` fails."""
    if not isinstance(instance, str):
        return True
    if _URI.fullmatch(instance) is None:
        return False
    parts = urlsplit(instance)
    # A hierarchical http(s) URI needs a host.
    return parts.scheme.lower() not in ("http", "https") or bool(parts.hostname)


@cache
def format_checker() -> Any:
    """The formats the contract uses: date and uuid from jsonschema, date-time and uri from this module."""
    checker = FormatChecker(formats=("date", "uuid"))
    checker.checks("date-time")(is_date_time)
    checker.checks("uri")(is_uri)
    return checker


# Violations --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    """One way a body breaks a schema: where in the body (JSON path), what, and which schema keyword said so."""

    path: str
    message: str
    keyword: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.keyword}]"


class ContractSchemaError(AssertionError):
    """A body does not match its schema; ``violations`` lists every problem found (an AssertionError, so a test
    that validates fails with the whole list rather than erroring)."""

    def __init__(self, schema_name: str, violations: list[Violation]) -> None:
        self.schema_name = schema_name
        self.violations = violations
        lines = "\n".join(f"  - {violation}" for violation in violations)
        super().__init__(
            f"body does not match contract schema {schema_name!r} ({len(violations)} violations):\n{lines}"
        )


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(parts: Iterable[str | int]) -> str:
    """``$.result.trainingStatus.status``, ``$.value[0]``, ``$.entities['two words']`` for a path of keys/indices."""
    out = "$"
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(str(part)):
            out += f".{part}"
        else:
            out += f"[{str(part)!r}]"
    return out


def violations_of(validator: Any, body: object, prefix: Iterable[str | int] = ()) -> list[Violation]:
    """Every error a jsonschema ``validator`` finds in ``body``, its path under ``prefix``, ordered by path.

    Shared with the OpenAPI check (Draft 4), so both report violations alike."""
    start = list(prefix)
    found = [
        Violation(json_path([*start, *error.absolute_path]), error.message, str(error.validator))
        for error in validator.iter_errors(body)
    ]
    return sorted(found, key=lambda violation: (violation.path, violation.message))


# A folder of schemas -----------------------------------------------------------------------------------------------


class SchemaSet:
    """The ``*.schema.json`` files of ``folder``, validated against by name (the file name without the suffix).

    :param shared: names of files that only hold ``$defs`` for the others (not a body schema of their own).
    Files are read on first use, so a set can be a module constant.
    """

    def __init__(self, folder: Path, shared: Iterable[str] = ("common",)) -> None:
        self.folder = folder
        self.shared = frozenset(shared)
        self._validators: dict[str, Any] = {}

    def names(self) -> tuple[str, ...]:
        """The body schemas' names, sorted (shared-definition files left out)."""
        return tuple(sorted(name for name in self._documents if name not in self.shared))

    @cached_property
    def _documents(self) -> dict[str, dict[str, Any]]:
        if not self.folder.is_dir():
            raise FileNotFoundError(f"contract schemas not found at {self.folder}")
        documents: dict[str, dict[str, Any]] = {}
        for path in sorted(self.folder.glob("*" + SUFFIX)):
            document = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(document, dict) or "$id" not in document:
                raise ValueError(f"{path}: a schema must be a JSON object with an $id")
            documents[path.name.removesuffix(SUFFIX)] = document
        return documents

    @cached_property
    def registry(self) -> Registry[Any]:
        """Every schema file as a resource under its ``$id`` (crawled), for ``$ref`` resolution across files."""
        resources = [(document["$id"], DRAFT202012.create_resource(document)) for document in self._documents.values()]
        built: Registry[Any] = Registry().with_resources(resources)
        return built.crawl()

    def check_files(self) -> None:
        """Raise unless every file is a Draft 2020-12 schema with a description, an ``$id`` ending in its own
        folder and file name, and ``$ref``s that all resolve: a broken file must fail in CI, not at a user's."""
        for name, document in self._documents.items():
            Draft202012Validator.check_schema(document)
            where = f"{self.folder.name}/{name}{SUFFIX}"
            if document.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
                raise ValueError(f"{where}: $schema must be Draft 2020-12")
            if not document["$id"].endswith("/" + where) or not document.get("description"):
                raise ValueError(f"{where}: needs an $id ending in /{where} and a description")
            resolver = self.registry.resolver(base_uri=document["$id"])
            for reference in _references(document):
                resolver.lookup(reference)  # raises naming the reference that does not resolve

    def _document(self, name: str) -> dict[str, Any]:
        if name not in self._documents:
            raise KeyError(f"no contract schema {name!r} in {self.folder}; known: {', '.join(sorted(self._documents))}")
        return self._documents[name]

    def schema(self, name: str) -> dict[str, Any]:
        """A copy of the parsed schema ``name`` (callers cannot corrupt the loaded one); a KeyError names the known."""
        return copy.deepcopy(self._document(name))

    def _validator(self, name: str) -> Any:
        if name in self.shared:
            raise KeyError(f"{name!r} holds shared definitions only; validate against a body schema: {self.names()}")
        if name not in self._validators:
            contents = self._document(name)
            Draft202012Validator.check_schema(contents)
            self._validators[name] = Draft202012Validator(
                contents, registry=self.registry, format_checker=format_checker()
            )
        return self._validators[name]

    def violations(self, name: str, body: object) -> list[Violation]:
        """Every violation of schema ``name`` by ``body`` (empty when the body conforms), ordered by path."""
        return violations_of(self._validator(name), body)

    def validate(self, name: str, body: object) -> None:
        """Raise ContractSchemaError listing every violation if ``body`` does not match schema ``name``."""
        found = self.violations(name, body)
        if found:
            raise ContractSchemaError(name, found)


def _references(node: object) -> list[str]:
    """Every ``$ref`` value in a schema document."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [reference for value in node.values() for reference in _references(value)]
    if isinstance(node, list):
        return [reference for value in node for reference in _references(value)]
    return []


RUNTIME = SchemaSet(SCHEMAS_DIR / "runtime")
"""The prediction API's answers (job state, error), as a target must give them."""
AUTHORING = SchemaSet(SCHEMAS_DIR / "authoring")
"""The authoring API's answers, as the emulated cloud must give them."""
