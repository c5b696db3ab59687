"""A submitted job body, checked whole before the job is accepted (azure-contract.md §2.1, §4).

What makes the *request* wrong is a 400 for all of it, as Azure answers: no documents, more than 25, more
than 125,000 characters together, duplicate or missing ids, a text that is not a string, no task, a task
kind or project this container does not serve. What is wrong with one *document* (empty text, an
unsupported language) is not decided here: it becomes that document's entry in ``results.errors`` and the
rest are served.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from emulator.ner import StringIndexType, TextIndex
from emulator.web.bodies import describe, malformed
from emulator.web.errors import BadRequest, invalid

from .versions import RuntimeVersion

MAX_DOCUMENTS = 25
MAX_CHARACTERS = 125_000
"""Per request, in text elements (Azure counts ``StringInfo.LengthInTextElements``)."""
MAX_TASKS = 10
"""Tasks per job. Azure documents none for Custom NER; each task runs the model over every document again, so
without a bound one 1 MB request could hold an hour of work (our choice)."""
MAX_BODY_BYTES = 1024 * 1024
"""Azure's documented maximum request size (1 MB) for the Language API."""
CUSTOM_NER = "CustomEntityRecognition"
OTHER_TASK_KINDS = (
    "SentimentAnalysis",
    "EntityRecognition",
    "PiiEntityRecognition",
    "KeyPhraseExtraction",
    "EntityLinking",
    "Healthcare",
    "CustomSingleLabelClassification",
    "CustomMultiLabelClassification",
    "ExtractiveSummarization",
    "AbstractiveSummarization",
    "CustomHealthcare",
    "CustomSentimentAnalysis",
    "CustomAbstractiveSummarization",
    "DynamicClassification",
)
"""Task kinds of the Language API that a Custom NER container does not run."""


@dataclass(frozen=True)
class DocumentInput:
    id: str
    index: TextIndex
    """The text with its offset tables, made once: the request counts its text elements with it, and the result
    converts the entities' offsets with it."""
    language: str | None

    @property
    def text(self) -> str:
        return self.index.text

    @property
    def characters(self) -> int:
        """The text's length in text elements: what the limit, ``charactersCount`` and text records count."""
        return self.index.text_elements_length()


@dataclass(frozen=True)
class TaskInput:
    name: str | None
    project_name: str
    deployment_name: str
    string_index_type: StringIndexType
    logging_opt_out: bool


@dataclass(frozen=True)
class JobInput:
    display_name: str | None
    documents: tuple[DocumentInput, ...]
    tasks: tuple[TaskInput, ...]
    default_language: str | None
    cancel_after: float | None


def _batch_error(message: str, inner: str = "InvalidDocumentBatch", target: str | None = None) -> BadRequest:
    return BadRequest(message, code="InvalidRequest", inner=inner, target=target)


def parse_job(body: Any, version: RuntimeVersion, served_project: str) -> JobInput:
    """The job described by ``body``.

    :raises BadRequest: naming the field (``target``) and what to send instead.
    """
    if not isinstance(body, dict):
        raise malformed("a JSON object with analysisInput and tasks", body)
    documents = _documents(body.get("analysisInput"))
    tasks = _tasks(body.get("tasks"), served_project)
    display_name = body.get("displayName")
    if display_name is not None and not isinstance(display_name, str):
        raise invalid(f"displayName must be a string, not {describe(display_name)}", target="displayName")
    default_language = body.get("defaultLanguage") if version.default_language else None
    if default_language is not None and not isinstance(default_language, str):
        raise invalid(f"defaultLanguage must be a string, not {describe(default_language)}", target="defaultLanguage")
    cancel_after = body.get("cancelAfter") if version.cancel_after else None
    if cancel_after is not None and (
        isinstance(cancel_after, bool) or not isinstance(cancel_after, int | float) or not 0 < cancel_after <= 86_400
    ):
        raise invalid(
            f"cancelAfter must be a number of seconds from 0 to 86400, not {describe(cancel_after)}",
            target="cancelAfter",
        )
    return JobInput(display_name, documents, tasks, default_language, cancel_after)


def _documents(analysis_input: Any) -> tuple[DocumentInput, ...]:
    if not isinstance(analysis_input, dict):
        raise _batch_error(
            'analysisInput is required: send {"analysisInput": {"documents": [{"id", "text", "language"}]}}',
            inner="MissingInputDocuments",
            target="analysisInput",
        )
    raw = analysis_input.get("documents")
    if not isinstance(raw, list) or not raw:
        raise _batch_error(
            "Missing input documents: analysisInput.documents must be a non-empty list",
            inner="MissingInputDocuments",
            target="analysisInput.documents",
        )
    if len(raw) > MAX_DOCUMENTS:
        raise _batch_error(
            f"Batch request contains too many records. Max {MAX_DOCUMENTS} records are permitted.",
            target="analysisInput.documents",
        )
    documents: list[DocumentInput] = []
    seen: set[str] = set()
    total = 0
    for i, item in enumerate(raw):
        where = f"analysisInput.documents[{i}]"
        if not isinstance(item, dict):
            raise _batch_error(
                f"{where} must be an object with id, text and language", inner="InvalidDocument", target=where
            )
        doc_id, text, language = item.get("id"), item.get("text"), item.get("language")
        if not isinstance(doc_id, str) or not doc_id:
            raise _batch_error(
                f"{where}.id must be a non-empty string, not {describe(doc_id)}",
                inner="InvalidDocument",
                target=f"{where}.id",
            )
        if doc_id in seen:
            raise _batch_error(
                f"Request contains duplicated Ids ({doc_id!r}). Make sure each document has a unique Id.",
                inner="InvalidDocument",
                target=f"{where}.id",
            )
        seen.add(doc_id)
        if not isinstance(text, str):
            raise _batch_error(
                f"{where}.text must be a string, not {describe(text)}", inner="InvalidDocument", target=f"{where}.text"
            )
        if not text.isascii():
            try:
                text.encode("utf-8")
            except UnicodeEncodeError as exc:
                raise _batch_error(
                    f"{where}.text holds a lone UTF-16 surrogate at {exc.start}: it is not Unicode text; "
                    "send the text as valid UTF-8/UTF-16",
                    inner="InvalidDocument",
                    target=f"{where}.text",
                ) from exc
        if language is not None and not isinstance(language, str):
            raise _batch_error(
                f'{where}.language must be a string such as "en", not {describe(language)}',
                inner="InvalidDocument",
                target=f"{where}.language",
            )
        document = DocumentInput(doc_id, TextIndex(text), language or None)
        total += document.characters
        documents.append(document)
    if total > MAX_CHARACTERS:
        raise _batch_error(
            f"The documents hold {total} characters together; a request may hold at most {MAX_CHARACTERS}. "
            "Send fewer or shorter documents per request.",
            target="analysisInput.documents",
        )
    return tuple(documents)


def _tasks(raw: Any, served_project: str) -> tuple[TaskInput, ...]:
    if not isinstance(raw, list) or not raw:
        raise invalid(
            f"tasks must be a non-empty list of tasks of kind {CUSTOM_NER}", target="tasks", inner="InvalidRequest"
        )
    if len(raw) > MAX_TASKS:
        raise invalid(
            f"a job may hold at most {MAX_TASKS} tasks, not {len(raw)}; split it into several jobs", target="tasks"
        )
    tasks = []
    for i, item in enumerate(raw):
        where = f"tasks[{i}]"
        if not isinstance(item, dict):
            raise invalid(f"{where} must be an object with kind and parameters", target=where)
        kind = item.get("kind")
        if kind in OTHER_TASK_KINDS:
            raise invalid(
                f"{where}.kind {kind!r} is not served by the Custom NER container; it runs {CUSTOM_NER} tasks only",
                target=f"{where}.kind",
            )
        if kind != CUSTOM_NER:
            raise BadRequest(
                f"{where}.kind must be {CUSTOM_NER!r}, not {describe(kind)}",
                code="InvalidArgument",
                inner="InvalidParameterValue",
                target=f"{where}.kind",
            )
        name = item.get("taskName")
        if name is not None and not isinstance(name, str):
            raise invalid(f"{where}.taskName must be a string, not {describe(name)}", target=f"{where}.taskName")
        tasks.append(_task(item.get("parameters"), where, name, served_project))
    return tuple(tasks)


def _task(parameters: Any, where: str, name: str | None, served_project: str) -> TaskInput:
    where = f"{where}.parameters"
    if not isinstance(parameters, dict):
        raise invalid(f"{where} is required: an object with projectName and deploymentName", target=where)
    project, deployment = parameters.get("projectName"), parameters.get("deploymentName")
    if not isinstance(project, str) or not project:
        raise invalid(
            f"{where}.projectName is required: the project this container serves, {served_project!r}",
            target=f"{where}.projectName",
        )
    if project != served_project:
        raise invalid(
            f"Project {project!r} not found: this container serves project {served_project!r}; "
            f"set {where}.projectName to it",
            target=f"{where}.projectName",
        )
    if not isinstance(deployment, str) or not deployment:
        raise invalid(f"{where}.deploymentName is required: a non-empty string", target=f"{where}.deploymentName")
    unit = parameters.get("stringIndexType", StringIndexType.TEXT_ELEMENTS_V8.value)
    units = [u.value for u in StringIndexType]
    if unit not in units:
        raise invalid(
            f"{where}.stringIndexType must be one of {', '.join(units)}, not {describe(unit)}",
            target=f"{where}.stringIndexType",
        )
    opt_out = parameters.get("loggingOptOut", False)
    if not isinstance(opt_out, bool):
        raise invalid(
            f"{where}.loggingOptOut must be true or false, not {describe(opt_out)}", target=f"{where}.loggingOptOut"
        )
    return TaskInput(name, project, deployment, StringIndexType(unit), opt_out)
