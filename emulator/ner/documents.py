"""Where the texts of a project come from.

An Azure project file names its texts by ``location`` inside a blob container; the texts themselves live
elsewhere. A ``DocumentSource`` plays the container: a folder on disk (the emulator's storage, a user's
checkout) or an in-memory mapping (tests, uploads). Locations are validated against the naming rules
before they touch the file system, and a folder source refuses anything that resolves outside its root,
symlinks included.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

from .naming import DOCUMENT_LOCATION

MAX_DOCUMENT_BYTES = 4 * 128_000 + 3
"""128,000 characters (the documented limit) of up to four UTF-8 bytes each, plus a byte-order mark."""


class DocumentNotFoundError(LookupError):
    """The source holds no document at that location."""


class UnsafeLocationError(ValueError):
    """The location breaks the naming rules or points outside the source."""


def _check_location(location: str) -> None:
    """Refuse a location that breaks the naming rule before it is used as a key or a path."""
    if not DOCUMENT_LOCATION(location):
        raise UnsafeLocationError(DOCUMENT_LOCATION.explain(location, "document location"))


class DocumentSource(Protocol):
    """Returns the raw bytes stored at a document location."""

    def read(self, location: str) -> bytes: ...


class DirectorySource:
    """Documents stored as files under ``root``, the location being the path relative to it."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def read(self, location: str) -> bytes:
        _check_location(location)
        path = (self.root / location).resolve()
        if not path.is_relative_to(self.root):
            raise UnsafeLocationError(f"document location {location!r} resolves outside the storage folder")
        try:
            with path.open("rb") as fh:
                data = fh.read(MAX_DOCUMENT_BYTES + 1)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise DocumentNotFoundError(location) from exc
        return data


class MappingSource:
    """Documents held in memory, keyed by location (texts are encoded as UTF-8)."""

    def __init__(self, texts: Mapping[str, str | bytes]) -> None:
        self._texts = dict(texts)

    def read(self, location: str) -> bytes:
        _check_location(location)
        try:
            text = self._texts[location]
        except KeyError as exc:
            raise DocumentNotFoundError(location) from exc
        return text.encode("utf-8") if isinstance(text, str) else text
