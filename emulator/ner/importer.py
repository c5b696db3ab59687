"""Reading Azure project files as the service does: validate everything, collect every problem.

``parse_project`` reads the texts from a ``DocumentSource``, converts every offset from UTF-16 code units to
code points once, and checks everything the service checks, collecting every problem (which document,
which label, why, what to change) into one ``ProjectError`` rather than stopping at the first. It accepts
what Microsoft's own sample contains: CRLF counted in offsets, labels out of order, sloppy spans, no
``dataset``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from . import naming
from .documents import MAX_DOCUMENT_BYTES, DocumentNotFoundError, DocumentSource, UnsafeLocationError
from .errors import ProjectError, ProjectIssue
from .offsets import OffsetError, TextIndex
from .project import (
    DATASETS,
    MAX_CATEGORIES,
    MAX_DOCUMENT_CHARS,
    MAX_LABEL_LENGTH,
    OLDEST_PROJECT_FILE_VERSION,
    PROJECT_KIND,
    STRING_INDEX_TYPE,
    Document,
    Label,
    Project,
    ProjectMetadata,
    Region,
)

_MAX_ISSUES = 1000
_VERSION = re.compile(r"(\d{4}-\d{2}-\d{2})(?:-preview)?")

T = TypeVar("T")


class _TooManyIssuesError(Exception):
    pass


class _Reader:
    """Walks a project file, collecting issues instead of raising at the first one."""

    def __init__(self) -> None:
        self.issues: list[ProjectIssue] = []

    def issue(self, code: str, target: str, message: str) -> None:
        self.issues.append(ProjectIssue(code, target, message))
        if len(self.issues) >= _MAX_ISSUES:
            raise _TooManyIssuesError

    def get(
        self, obj: Mapping[str, Any], key: str, target: str, kind: type[T], *, required: bool, code: str
    ) -> T | None:
        """``obj[key]`` if it has type ``kind``; records an issue and returns None otherwise."""
        path = _path(target, key)
        if key not in obj or obj[key] is None:
            if required:
                self.issue(code, path, f"'{key}' is required")
            return None
        value = obj[key]
        # bool is an int in Python but not in JSON; Azure's int32 fields refuse true/false and 1.5 alike.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.issue(code, path, f"'{key}' must be {_json_type(kind)}, not {_json_type(type(value))}")
            return None
        return value

    def name(
        self,
        obj: Mapping[str, Any],
        key: str,
        target: str,
        rule: naming.NameRule,
        what: str,
        *,
        required: bool,
        code: str,
    ) -> str | None:
        """``obj[key]`` if it is a string that satisfies ``rule``; records an issue and returns None otherwise."""
        value = self.get(obj, key, target, str, required=required, code=code)
        if value is not None and not rule(value):
            self.issue(code, _path(target, key), rule.explain(value, what))
            return None
        return value


def _path(target: str, key: str) -> str:
    """The JSON path of ``key`` inside the object at ``target`` ("" is the document root)."""
    return f"{target}.{key}" if target else key


def _json_type(kind: type) -> str:
    return {
        str: "a string",
        int: "an integer",
        bool: "a boolean",
        float: "a number",
        dict: "an object",
        list: "an array",
        type(None): "null",
    }.get(kind, kind.__name__)


def parse_metadata(data: object, target: str = "metadata") -> ProjectMetadata:
    """Validate a ``CreateProjectOptions`` object (project file ``metadata`` or the body of a project PATCH)."""
    return _validated(lambda reader: _read_metadata(reader, data, target))


def _validated(read: Callable[[_Reader], T | None]) -> T:
    """Run ``read`` with a fresh issue collector; any issue (or no result) becomes one ``ProjectError``."""
    reader = _Reader()
    try:
        result = read(reader)
    except _TooManyIssuesError:
        result = None
    if reader.issues or result is None:
        raise ProjectError(reader.issues)
    return result


def _read_metadata(reader: _Reader, data: object, target: str) -> ProjectMetadata | None:
    code = "InvalidProjectFile"
    if not isinstance(data, dict):
        reader.issue(
            code,
            target,
            f"'{target}' must be an object with projectName, projectKind, language and storageInputContainerName",
        )
        return None
    kind = reader.get(data, "projectKind", target, str, required=True, code=code)
    if kind is not None and kind != PROJECT_KIND:
        reader.issue(
            code,
            f"{target}.projectKind",
            f"projectKind {kind!r} is not supported here; this service imports only {PROJECT_KIND!r} projects",
        )
    name = reader.name(data, "projectName", target, naming.RESOURCE_NAME, "project name", required=True, code=code)
    container = reader.name(
        data,
        "storageInputContainerName",
        target,
        naming.CONTAINER_NAME,
        "storage container name",
        required=True,
        code=code,
    )
    language = reader.name(data, "language", target, naming.LANGUAGE_TAG, "language", required=True, code=code)
    multilingual = reader.get(data, "multilingual", target, bool, required=False, code=code)
    description = reader.get(data, "description", target, str, required=False, code=code)
    settings = reader.get(data, "settings", target, dict, required=False, code=code)
    if name is None or container is None or language is None or kind != PROJECT_KIND:
        return None
    return ProjectMetadata(
        project_name=name,
        storage_input_container_name=container,
        language=language,
        multilingual=bool(multilingual),
        description=description,
        settings=settings or {},
    )


def parse_project(data: object, source: DocumentSource) -> Project:
    """Validate an Azure project file and load its documents from ``source``.

    :raises ProjectError: listing every problem found (up to 1,000).
    """
    return _validated(lambda reader: _read_project(reader, data, source))


def _read_project(reader: _Reader, data: object, source: DocumentSource) -> Project | None:
    code = "InvalidProjectFile"
    if not isinstance(data, dict):
        reader.issue(
            code,
            "",
            "a project file must be a JSON object with projectFileVersion, stringIndexType, metadata and assets",
        )
        return None
    version = reader.get(data, "projectFileVersion", "", str, required=True, code=code)
    if version is not None:
        match = _VERSION.fullmatch(version)
        if match is None or match.group(1) < OLDEST_PROJECT_FILE_VERSION:
            reader.issue(
                code,
                "projectFileVersion",
                f"projectFileVersion {version!r} is not supported; use "
                f"{OLDEST_PROJECT_FILE_VERSION!r} or a later API version such as '2023-04-01'",
            )
    index_type = reader.get(data, "stringIndexType", "", str, required=True, code=code)
    if index_type is not None and index_type != STRING_INDEX_TYPE:
        reader.issue(
            code,
            "stringIndexType",
            f"stringIndexType {index_type!r} is not supported in project "
            f"files; offsets must be counted in UTF-16 code units ({STRING_INDEX_TYPE!r})",
        )
    metadata = _read_metadata(reader, data.get("metadata"), "metadata")
    assets = reader.get(data, "assets", "", dict, required=False, code=code)
    categories: tuple[str, ...] = ()
    documents: tuple[Document, ...] = ()
    if assets is not None:
        kind = reader.get(assets, "projectKind", "assets", str, required=True, code=code)
        if kind is not None and kind != PROJECT_KIND:
            reader.issue(code, "assets.projectKind", f"assets.projectKind must be {PROJECT_KIND!r}, not {kind!r}")
        categories = _read_categories(reader, assets)
        language = metadata.language if metadata else "en"
        documents = _read_documents(reader, assets, set(categories), language, source)
    if metadata is None or version is None:
        return None
    return Project(metadata=metadata, categories=categories, documents=documents, file_version=version)


def _read_categories(reader: _Reader, assets: Mapping[str, Any]) -> tuple[str, ...]:
    code = "InvalidEntity"
    entities = reader.get(assets, "entities", "assets", list, required=False, code=code) or []
    if len(entities) > MAX_CATEGORIES:
        reader.issue(
            code,
            "assets.entities",
            f"the project declares {len(entities)} entity categories; the limit "
            f"is {MAX_CATEGORIES}: merge or remove categories",
        )
    seen: dict[str, str] = {}
    categories: list[str] = []
    for i, entity in enumerate(entities):
        path = f"assets.entities[{i}]"
        if not isinstance(entity, dict):
            reader.issue(code, path, 'each entity must be an object such as {"category": "Name"}')
            continue
        category = reader.name(
            entity, "category", path, naming.ENTITY_NAME, "entity category", required=True, code=code
        )
        if category is None:
            continue
        if category.casefold() in seen:
            reader.issue(
                code,
                f"{path}.category",
                f"entity category {category!r} is declared twice (first as "
                f"{seen[category.casefold()]!r}); category names are unique regardless of case",
            )
            continue
        seen[category.casefold()] = category
        categories.append(category)
    return tuple(categories)


def _read_documents(
    reader: _Reader, assets: Mapping[str, Any], categories: set[str], language: str, source: DocumentSource
) -> tuple[Document, ...]:
    code = "InvalidDocument"
    items = reader.get(assets, "documents", "assets", list, required=False, code=code) or []
    documents: list[Document] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = f"assets.documents[{i}]"
        if not isinstance(item, dict):
            reader.issue(code, path, "each document must be an object with location, language and entities")
            continue
        location = reader.name(
            item, "location", path, naming.DOCUMENT_LOCATION, "document location", required=True, code=code
        )
        if location is not None:
            if location in seen:
                reader.issue(
                    code,
                    f"{path}.location",
                    f"document {location!r} is listed twice; each location may appear once",
                )
                location = None
            else:
                seen.add(location)
        document = _read_document(reader, item, path, location, categories, language, source)
        if document is not None:
            documents.append(document)
    return tuple(documents)


def _read_document(
    reader: _Reader,
    item: Mapping[str, Any],
    path: str,
    location: str | None,
    categories: set[str],
    default_language: str,
    source: DocumentSource,
) -> Document | None:
    code = "InvalidDocument"
    language = reader.name(item, "language", path, naming.LANGUAGE_TAG, "language", required=False, code=code)
    dataset = reader.get(item, "dataset", path, str, required=False, code=code)
    if dataset is not None:
        canonical = {d.lower(): d for d in DATASETS}.get(dataset.lower())
        if canonical is None:
            reader.issue(
                code,
                f"{path}.dataset",
                f"document {location!r}: dataset {dataset!r} must be 'Train' or 'Test' (or left out)",
            )
        dataset = canonical
    regions_json = reader.get(item, "entities", path, list, required=False, code=code) or []
    text = _read_text(reader, path, location, source) if location is not None else None
    regions = _read_regions(reader, regions_json, path, location or "?", text, categories)
    if text is None or regions is None or location is None:
        return None
    return Document(
        location=location, language=language or default_language, text=text, regions=regions, dataset=dataset
    )


def _read_text(reader: _Reader, path: str, location: str, source: DocumentSource) -> str | None:
    code = "InvalidDocument"
    try:
        data = source.read(location)
    except DocumentNotFoundError:
        reader.issue(
            "DocumentNotFound",
            f"{path}.location",
            f"document {location!r} was not found in the storage container; upload it or fix the location",
        )
        return None
    except UnsafeLocationError as exc:
        reader.issue(code, f"{path}.location", str(exc))
        return None
    if len(data) > MAX_DOCUMENT_BYTES:
        reader.issue(
            code,
            f"{path}.location",
            f"document {location!r} is larger than {MAX_DOCUMENT_CHARS:,} "
            "characters, the limit for one document; split it",
        )
        return None
    try:
        # utf-8-sig drops a byte-order mark, as .NET's StreamReader does when the service reads the blob.
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        reader.issue(
            code,
            f"{path}.location",
            f"document {location!r} is not valid UTF-8 (byte {exc.start}); save it as UTF-8 text",
        )
        return None
    if not text.strip():
        reader.issue(
            code,
            f"{path}.location",
            f"document {location!r} is empty; remove it from the project or give it text",
        )
        return None
    if len(text) > MAX_DOCUMENT_CHARS:
        reader.issue(
            code,
            f"{path}.location",
            f"document {location!r} has {len(text):,} characters; the limit is {MAX_DOCUMENT_CHARS:,}: split it",
        )
        return None
    return text


def _read_regions(
    reader: _Reader,
    regions_json: Sequence[Any],
    path: str,
    location: str,
    text: str | None,
    categories: set[str],
) -> tuple[Region, ...] | None:
    """Regions with labels in code points; None when any of them is invalid (issues recorded)."""
    index = TextIndex(text) if text is not None else None
    ok = True
    regions: list[Region] = []
    for r, region_json in enumerate(regions_json):
        rpath = f"{path}.entities[{r}]"
        if not isinstance(region_json, dict):
            reader.issue(
                "InvalidDocument",
                rpath,
                f"document {location!r}: each item of 'entities' must be an "
                "object with regionOffset, regionLength and labels",
            )
            ok = False
            continue
        region = _read_region(reader, region_json, rpath, location, index, categories)
        if region is None:
            ok = False
        else:
            regions.append(region)
    if not ok or index is None:
        return None
    return tuple(regions) if _no_overlaps(reader, regions, path, location, index) else None


def _read_region(
    reader: _Reader,
    region_json: Mapping[str, Any],
    rpath: str,
    location: str,
    index: TextIndex | None,
    categories: set[str],
) -> Region | None:
    code = "InvalidDocument"
    ok = True
    offset = reader.get(region_json, "regionOffset", rpath, int, required=False, code=code)
    length = reader.get(region_json, "regionLength", rpath, int, required=False, code=code)
    start16 = offset if offset is not None else 0
    end16 = start16 + length if length is not None else (index.utf16_length() if index else 0)
    if (offset is not None and offset < 0) or (length is not None and length < 0):
        reader.issue(code, rpath, f"document {location!r}: regionOffset and regionLength must not be negative")
        ok = False
    elif index is not None and end16 > index.utf16_length():
        reader.issue(
            code,
            rpath,
            f"document {location!r}: the region {start16}..{end16} ends past the end of "
            f"the text ({index.utf16_length()} UTF-16 code units)",
        )
        ok = False
    labels: list[Label] = []
    labels_json = reader.get(region_json, "labels", rpath, list, required=False, code=code) or []
    for k, label_json in enumerate(labels_json):
        label = _read_label(
            reader,
            label_json,
            f"{rpath}.labels[{k}]",
            location,
            (start16, end16) if ok else None,
            index,
            categories,
        )
        if label is None:
            ok = False
        else:
            labels.append(label)
    if not ok or index is None:
        return None
    try:
        start, end = index.from_utf16(start16), index.from_utf16(end16)
    except OffsetError as exc:
        reader.issue(code, rpath, f"document {location!r}: region {start16}..{end16}: {exc}")
        return None
    return Region(start=start, end=end, labels=tuple(sorted(labels, key=lambda x: x.start)))


def _read_label(
    reader: _Reader,
    label_json: object,
    lpath: str,
    location: str,
    region: tuple[int, int] | None,
    index: TextIndex | None,
    categories: set[str],
) -> Label | None:
    code = "InvalidLabel"
    if not isinstance(label_json, dict):
        reader.issue(
            code,
            lpath,
            f"document {location!r}: each label must be an object with category, offset and length",
        )
        return None
    category = reader.get(label_json, "category", lpath, str, required=True, code=code)
    offset = reader.get(label_json, "offset", lpath, int, required=True, code=code)
    length = reader.get(label_json, "length", lpath, int, required=True, code=code)
    if category is None or offset is None or length is None:
        return None
    what = f"document {location!r}, label {category!r} at offset {offset} length {length}"
    if category not in categories:
        reader.issue(
            code,
            f"{lpath}.category",
            f"{what}: category {category!r} is not declared in assets.entities; declare it or fix the label",
        )
        return None
    if offset < 0 or length < 1:
        reader.issue(code, lpath, f"{what}: offset must be >= 0 and length >= 1")
        return None
    if length > MAX_LABEL_LENGTH:
        reader.issue(code, lpath, f"{what}: an entity may be at most {MAX_LABEL_LENGTH} characters long")
        return None
    if region is None or index is None:
        return None
    if offset < region[0] or offset + length > region[1]:
        reader.issue(
            code,
            lpath,
            f"{what}: the label spans {offset}..{offset + length} but must lie inside its "
            f"region {region[0]}..{region[1]} (regionOffset..regionOffset+regionLength); move the label or "
            "widen the region",
        )
        return None
    try:
        return Label(category, index.from_utf16(offset), index.from_utf16(offset + length))
    except OffsetError as exc:
        reader.issue(code, lpath, f"{what}: {exc}")
        return None


def _no_overlaps(reader: _Reader, regions: list[Region], path: str, location: str, index: TextIndex) -> bool:
    ok = True
    ordered = sorted(regions, key=lambda r: r.start)
    for a, b in itertools.pairwise(ordered):
        if b.start < a.end:
            reader.issue(
                "InvalidDocument",
                f"{path}.entities",
                f"document {location!r}: regions "
                f"{index.to_utf16(a.start)}..{index.to_utf16(a.end)} and "
                f"{index.to_utf16(b.start)}..{index.to_utf16(b.end)} overlap; merge them into one region",
            )
            ok = False
    labels = sorted((label for region in regions for label in region.labels), key=lambda x: (x.start, x.end))
    for first, second in itertools.pairwise(labels):
        if second.start < first.end:
            reader.issue(
                "InvalidLabel",
                f"{path}.entities",
                f"document {location!r}: label {first.category!r} "
                f"({index.to_utf16(first.start)}..{index.to_utf16(first.end)}) overlaps label {second.category!r} "
                f"({index.to_utf16(second.start)}..{index.to_utf16(second.end)}); a character may carry one "
                "label only",
            )
            ok = False
    return ok
