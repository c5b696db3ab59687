"""The naming rules Azure documents for Custom NER, in one place.

Names arrive in project files and URLs and some of them become file paths (document locations, project
and model folders), so each rule is a strict allow-list: a name either matches or is refused with a
message that quotes the rule. Sources: custom NER ``service-limits.md`` (project, model, deployment and
entity names) and the Azure Blob Storage naming rules (container names, blob names).
"""

from __future__ import annotations

import re

RESOURCE_NAME_RULE = "1-50 characters from letters, digits, '_', '.' and '-'"
_RESOURCE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,50}")

ENTITY_NAME_RULE = "1-50 characters, none of : $ & % * ( ) + ~ # / ? and no control characters"
_ENTITY_FORBIDDEN = re.compile(r"[:$&%*()+~#/?\x00-\x1f\x7f]")

CONTAINER_NAME_RULE = "3-63 characters: lowercase letters, digits and single hyphens, starting with a letter or digit"
_CONTAINER_NAME = re.compile(r"(?=.{3,63}\Z)[a-z0-9]+(?:-[a-z0-9]+)*")

LOCATION_RULE = (
    "a relative path of '/'-separated segments ending in .txt, at most 1,024 characters, with no '..' or '.' "
    "segment, no leading '/', no backslash and no control characters"
)
_LOCATION_SEGMENT_FORBIDDEN = re.compile(r'[\\\x00-\x1f\x7f:*?"<>|]')

LANGUAGE_RULE = "a BCP-47 language tag such as 'en' or 'en-us'"
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")


def is_resource_name(name: str) -> bool:
    """Project, trained-model, deployment and exported-model names."""
    return _RESOURCE_NAME.fullmatch(name) is not None


def is_entity_name(name: str) -> bool:
    """Entity category names (``assets.entities[].category``)."""
    return 1 <= len(name) <= 50 and name.strip() == name and _ENTITY_FORBIDDEN.search(name) is None


def is_container_name(name: str) -> bool:
    """Blob container names (``metadata.storageInputContainerName``)."""
    return _CONTAINER_NAME.fullmatch(name) is not None


def is_document_location(location: str) -> bool:
    """Document locations inside a storage container; they become file paths, so '..' and friends are refused."""
    if not location or len(location) > 1024 or location.startswith("/"):
        return False
    segments = location.split("/")
    if any(seg in ("", ".", "..") or _LOCATION_SEGMENT_FORBIDDEN.search(seg) for seg in segments):
        return False
    return segments[-1].lower().endswith(".txt") and len(segments[-1]) > 4


def is_language_tag(tag: str) -> bool:
    """Language codes of projects and documents."""
    return _LANGUAGE.fullmatch(tag) is not None
