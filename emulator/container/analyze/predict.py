"""One ``CustomEntityRecognition`` task over a job's documents: what the worker threads run.

Each document gets either a result (its entities, offsets in the task's ``stringIndexType``) or an entry in
``results.errors`` in the shape Azure uses (recorded: ``InvalidArgument`` with ``innererror``
``InvalidDocument`` "Document text is empty."), so one bad document never fails the others. Billing counts
valid documents only: one text record per started 1,000 characters (text elements).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from emulator.ner import Model, entities_json
from emulator.ner.languages import LANGUAGE_CODES

from .request import DocumentInput, TaskInput

CHARACTERS_PER_TEXT_RECORD = 1000


class CancelledError(Exception):
    """The job was cancelled between two documents."""


@dataclass(frozen=True, slots=True)
class ServedDocument:
    """A document's result: its entities as the API returns them, and what its statistics count."""

    id: str
    entities: tuple[dict[str, object], ...]
    characters: int
    text_records: int


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """What one task served, immutable once made: it stays in the job store until the job expires or makes room."""

    documents: tuple[ServedDocument, ...] = ()
    errors: tuple[dict[str, Any], ...] = ()

    @property
    def text_records(self) -> int:
        return sum(d.text_records for d in self.documents)


def text_records(characters: int) -> int:
    """Text records of a document of ``characters`` characters: one per started thousand (at least one)."""
    return max(1, math.ceil(characters / CHARACTERS_PER_TEXT_RECORD))


def _document_error(doc_id: str, message: str, inner: str, detail: str) -> dict[str, Any]:
    return {
        "id": doc_id,
        "error": {"code": "InvalidArgument", "message": message, "innererror": {"code": inner, "message": detail}},
    }


def language_problem(language: str) -> str | None:
    """Why documents in ``language`` cannot be served, or None. Codes are matched case-insensitively, and a
    regional variant is served when its language is (``en-GB`` as ``en``)."""
    code = language.lower()
    if code == "auto":
        return (
            'Language detection (language "auto") is not available in this container; '
            'send each document\'s language, e.g. "en"'
        )
    if code in LANGUAGE_CODES or code.split("-")[0] in LANGUAGE_CODES:
        return None
    return f"Invalid language code {language!r}. Supported languages: {', '.join(sorted(LANGUAGE_CODES))}"


def run_task(
    model: Model,
    task: TaskInput,
    documents: Sequence[DocumentInput],
    default_language: str,
    cancelled: Callable[[], bool],
) -> TaskOutcome:
    """Recognize the entities of every servable document of ``documents`` for ``task``.

    :raises CancelledError: ``cancelled()`` turned true between two documents.
    """
    served: list[ServedDocument] = []
    errors: list[dict[str, Any]] = []
    recognizer = model.recognizer
    for document in documents:
        if cancelled():
            raise CancelledError
        if not document.text.strip():
            errors.append(
                _document_error(
                    document.id, "Invalid Document in request.", "InvalidDocument", "Document text is empty."
                )
            )
            continue
        problem = language_problem(document.language or default_language)
        if problem is not None:
            errors.append(_document_error(document.id, "Invalid Language Code.", "UnsupportedLanguageCode", problem))
            continue
        entities = entities_json(document.index, recognizer.recognize(document.text), task.string_index_type)
        served.append(
            ServedDocument(document.id, tuple(entities), document.characters, text_records(document.characters))
        )
    return TaskOutcome(tuple(served), tuple(errors))
