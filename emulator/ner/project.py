"""A Custom NER project as the engine holds it, and its Azure project file (``project_to_json``).

Inside the engine every offset is in code points and every text is loaded; the project file (the
``:import`` body and the ``:export`` result) counts in UTF-16 code units and names texts by ``location``.
Reading and validating a project file is ``importer.parse_project``; writing one is here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .offsets import TextIndex

PROJECT_KIND = "CustomEntityRecognition"
STRING_INDEX_TYPE = "Utf16CodeUnit"
OLDEST_PROJECT_FILE_VERSION = "2022-05-01"
CURRENT_PROJECT_FILE_VERSION = "2022-05-01"
MAX_CATEGORIES = 200
MAX_DOCUMENT_CHARS = 128_000
MAX_LABEL_LENGTH = 500
DATASETS = ("Train", "Test")


@dataclass(frozen=True)
class Label:
    """A labelled span ``[start, end)`` in code points."""

    category: str
    start: int
    end: int


@dataclass(frozen=True)
class Region:
    """The part ``[start, end)`` of a document that training considers, with its labels (code points)."""

    start: int
    end: int
    labels: tuple[Label, ...]


@dataclass(frozen=True)
class Document:
    """One document of a project, its text loaded. A document without regions is unlabelled and not trained on."""

    location: str
    language: str
    text: str
    regions: tuple[Region, ...] = ()
    dataset: str | None = None

    @property
    def labels(self) -> tuple[Label, ...]:
        return tuple(label for region in self.regions for label in region.labels)


@dataclass(frozen=True)
class ProjectMetadata:
    """``metadata`` of a project file (the service's ``CreateProjectOptions``)."""

    project_name: str
    storage_input_container_name: str
    language: str
    multilingual: bool = False
    description: str | None = None
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Project:
    """A validated Custom NER project: metadata, categories in declaration order, documents with texts."""

    metadata: ProjectMetadata
    categories: tuple[str, ...]
    documents: tuple[Document, ...]
    file_version: str = CURRENT_PROJECT_FILE_VERSION


def project_to_json(project: Project, *, file_version: str | None = None) -> dict[str, Any]:
    """The project file of ``project`` (offsets in UTF-16 code units), as the service exports it."""
    meta = project.metadata
    metadata: dict[str, Any] = {
        "projectKind": PROJECT_KIND,
        "storageInputContainerName": meta.storage_input_container_name,
        "projectName": meta.project_name,
        "multilingual": meta.multilingual,
        "description": meta.description or "",
        "language": meta.language,
        "settings": dict(meta.settings),
    }
    return {
        "projectFileVersion": file_version or project.file_version,
        "stringIndexType": STRING_INDEX_TYPE,
        "metadata": metadata,
        "assets": {
            "projectKind": PROJECT_KIND,
            "entities": [{"category": c} for c in project.categories],
            "documents": [_document_to_json(d) for d in project.documents],
        },
    }


def _document_to_json(document: Document) -> dict[str, Any]:
    index = TextIndex(document.text)
    result: dict[str, Any] = {"location": document.location, "language": document.language}
    if document.dataset is not None:
        result["dataset"] = document.dataset
    result["entities"] = [
        {**region_json(index, region), "labels": [label_json(index, label) for label in region.labels]}
        for region in document.regions
    ]
    return result


def region_json(index: TextIndex, region: Region) -> dict[str, int]:
    """``regionOffset`` and ``regionLength`` in UTF-16 code units (project files, evaluation results)."""
    offset, length = index.utf16_span(region.start, region.end)
    return {"regionOffset": offset, "regionLength": length}


def label_json(index: TextIndex, label: Label) -> dict[str, Any]:
    """A label as project files and evaluation results write it: category, UTF-16 offset and length."""
    offset, length = index.utf16_span(label.start, label.end)
    return {"category": label.category, "offset": offset, "length": length}
