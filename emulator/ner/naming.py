"""The naming rules Azure documents for Custom NER, in one place.

Names arrive in project files and URLs and some of them become file paths (document locations, project
and model folders), so each rule is a strict allow-list: a name either matches or is refused with a
message that quotes the rule. Sources: custom NER ``service-limits.md`` (project, model, deployment and
entity names) and the Azure Blob Storage naming rules (container names, blob names).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

_RESOURCE_NAME = re.compile(r"(?!\.{1,2}\Z)[A-Za-z0-9_.-]{1,50}")
_ENTITY_FORBIDDEN = re.compile(r"[:$&%*()+~#/?\x00-\x1f\x7f]")
_CONTAINER_NAME = re.compile(r"(?=.{3,63}\Z)[a-z0-9]+(?:-[a-z0-9]+)*")
_LOCATION_SEGMENT_FORBIDDEN = re.compile(r'[\\\x00-\x1f\x7f:*?"<>|]')
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True)
class NameRule:
    """One naming rule: a check and the sentence that states it, quoted in every refusal."""

    rule: str
    check: Callable[[str], bool]

    def __call__(self, name: str) -> bool:
        return self.check(name)

    def explain(self, name: str, what: str) -> str:
        """The refusal message for ``name``, which the caller calls ``what`` (e.g. "project name")."""
        return f"{what} {name!r} breaks the naming rule: {self.rule}"


def _is_document_location(location: str) -> bool:
    if not location or len(location) > 1024 or location.startswith("/"):
        return False
    segments = location.split("/")
    if any(seg in ("", ".", "..") or _LOCATION_SEGMENT_FORBIDDEN.search(seg) for seg in segments):
        return False
    return segments[-1].lower().endswith(".txt") and len(segments[-1]) > 4


RESOURCE_NAME = NameRule(
    "1-50 characters from letters, digits, '_', '.' and '-', and not '.' or '..'",
    lambda name: _RESOURCE_NAME.fullmatch(name) is not None,
)
"""Project, trained-model, deployment and exported-model names; they become folder names, hence no '.'/'..'."""

ENTITY_NAME = NameRule(
    "1-50 characters, none of : $ & % * ( ) + ~ # / ?, no control characters and no surrounding spaces",
    lambda name: 1 <= len(name) <= 50 and name.strip() == name and _ENTITY_FORBIDDEN.search(name) is None,
)
"""Entity category names (``assets.entities[].category``)."""

CONTAINER_NAME = NameRule(
    "3-63 characters: lowercase letters, digits and single hyphens, starting with a letter or digit",
    lambda name: _CONTAINER_NAME.fullmatch(name) is not None,
)
"""Blob container names (``metadata.storageInputContainerName``)."""

DOCUMENT_LOCATION = NameRule(
    "a relative path of '/'-separated segments ending in .txt, at most 1,024 characters, with no '..' or '.' "
    "segment, no leading '/', no backslash and no control characters",
    _is_document_location,
)
"""Document locations inside a storage container; they become file paths, so '..' and friends are refused."""

LANGUAGE_TAG = NameRule(
    "a BCP-47 language tag such as 'en' or 'en-us'",
    lambda tag: _LANGUAGE.fullmatch(tag) is not None,
)
"""Language codes of projects and documents."""
