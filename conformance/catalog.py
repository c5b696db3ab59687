"""The clause catalog (``catalog.toml``): what a Custom NER container must do, by id.

Loaded strictly, after Kubernetes' behaviors catalog: every clause has an id of the form ``area/name``, one
statement and a source; ids are unique; unknown keys are an error. The plugin checks each test's ``clause``
marker against it at collection time, and the report lists the clauses no test checks.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

CATALOG_FILE = Path(__file__).with_name("catalog.toml")
CLAUSE_ID = re.compile(r"[a-z0-9-]+/[a-z0-9-]+")
NEEDS = frozenset({"launcher", "meter"})
_KEYS = frozenset({"id", "statement", "source", "needs"})


class CatalogError(ValueError):
    """The catalog file breaks its own rules (a duplicate or malformed id, a missing field, an unknown key)."""


@dataclass(frozen=True)
class Clause:
    """One checkable sentence of the contract and where it comes from."""

    id: str
    statement: str
    source: str
    needs: str | None = None

    @property
    def area(self) -> str:
        return self.id.split("/", 1)[0]


def parse_catalog(text: str, origin: str = "catalog") -> dict[str, Clause]:
    """The clauses of a catalog document, by id, in file order.

    :raises CatalogError: naming the offending clause and what is wrong with it.
    """
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{origin}: not TOML: {exc}") from exc
    if set(document) != {"clause"} or not isinstance(document["clause"], list):
        raise CatalogError(f"{origin}: expected only [[clause]] tables, found {sorted(document)}")
    clauses: dict[str, Clause] = {}
    for number, entry in enumerate(document["clause"], start=1):
        where = f"{origin}: clause {number} ({entry.get('id', 'no id')})"
        if unknown := set(entry) - _KEYS:
            raise CatalogError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_KEYS)}")
        for key in ("id", "statement", "source"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                raise CatalogError(f"{where}: {key} must be a non-empty string")
        if not CLAUSE_ID.fullmatch(entry["id"]):
            raise CatalogError(f"{where}: an id is area/name in lower case, digits and dashes")
        if entry["id"] in clauses:
            raise CatalogError(f"{where}: duplicate id")
        if entry.get("needs") not in (None, *NEEDS):
            raise CatalogError(f"{where}: needs must be one of {sorted(NEEDS)}")
        clauses[entry["id"]] = Clause(entry["id"], entry["statement"], entry["source"], entry.get("needs"))
    return clauses


@cache
def load_catalog(path: Path = CATALOG_FILE) -> dict[str, Clause]:
    """The catalog shipped with the suite (or another file), parsed once."""
    return parse_catalog(path.read_text(encoding="utf-8"), str(path))
