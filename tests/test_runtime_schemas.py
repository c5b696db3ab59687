"""The runtime schemas (conformance/schemas/runtime) describe the real service and can fail; so can the OpenAPI check.

1. Microsoft's recorded prediction-API responses validate against the schema their request maps to.
2. Each runtime schema rejects broken bodies, naming the JSON path of the problem.
3. ``conformance.openapi`` checks a job against the official analyzetext.json of every saved version.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from referencing.exceptions import Unresolvable

from conformance.documents import mutated
from conformance.openapi import OpenApiSpec
from conformance.schema_check import AUTHORING, RUNTIME, ContractSchemaError, SchemaSet
from fixtures.public_corpora import ABSENT_REASON, recorded_entries, recordings, shared_dir, validate_recorded_answers

JOB_ID = "1aee3b01-4de2-43a3-a90d-af1a34a3e03b"
SPEC_VERSIONS = ("2022-05-01", "2023-04-01", "2023-04-15-preview", "2025-11-01")


def _saved_spec(version: str) -> Path:
    shared = shared_dir()
    saved = None if shared is None else shared / "specs" / "azure-language" / version / "analyzetext.json"
    if saved is None or not saved.is_file():
        pytest.skip(f"no saved analyzetext.json of {version}: {ABSENT_REASON}")
    return saved


NO_RECORDINGS = ABSENT_REASON if shared_dir() is None else "no recordings/ta_*.json in the shared folder"
RECORDING_PARAMS = [pytest.param(path, id=path.stem) for path in recordings("ta_*.json")] or [
    pytest.param(None, id="no-recordings", marks=pytest.mark.skip(reason=NO_RECORDINGS))
]


# 1. Real recorded responses ----------------------------------------------------------------------------------------

_JOB_PATH = re.compile(r"/language/analyze-text/jobs/[^/:]+")


def runtime_schema_for(method: str, url: str, status: int) -> str | None:
    """The runtime schema a recorded response must match: errors -> error, a job GET -> job-state, else no body."""
    if status >= 400:
        return "error"
    if method.upper() == "GET" and status == 200 and _JOB_PATH.fullmatch(urlsplit(url).path):
        return "job-state"
    return None


@pytest.mark.parametrize("path", RECORDING_PARAMS)
def test_recorded_runtime_responses_validate(path: Path) -> None:
    used = validate_recorded_answers(path, runtime_schema_for, RUNTIME.validate)
    assert "job-state" in used, f"{path.name} has no job answer"


@pytest.mark.parametrize(
    ("method", "url", "status", "expected"),
    [
        ("POST", "https://x.invalid/language/analyze-text/jobs?api-version=2023-04-01", 202, None),
        (
            "GET",
            f"https://x.invalid/language/analyze-text/jobs/{JOB_ID}?api-version=2023-04-01&top=3",
            200,
            "job-state",
        ),
        ("POST", f"https://x.invalid/language/analyze-text/jobs/{JOB_ID}:cancel", 202, None),
        ("GET", f"https://x.invalid/language/analyze-text/jobs/{JOB_ID}", 404, "error"),
        ("POST", "https://x.invalid/language/analyze-text/jobs", 400, "error"),
    ],
)
def test_runtime_schema_for(method: str, url: str, status: int, expected: str | None) -> None:
    assert runtime_schema_for(method, url, status) == expected


# 2. The schemas reject broken bodies -------------------------------------------------------------------------------

# azure-contract.md §2.2's Custom NER task item and job state, ids and dates filled in.
JOB: dict[str, Any] = {
    "displayName": "Extracting entities",
    "jobId": JOB_ID,
    "createdDateTime": "2022-05-01T00:00:00Z",
    "expirationDateTime": "2022-05-02T00:00:00Z",
    "lastUpdatedDateTime": "2022-05-01T00:00:01Z",
    "status": "succeeded",
    "errors": [],
    "nextLink": f"https://x.invalid/language/analyze-text/jobs/{JOB_ID}?api-version=2023-04-01&skip=1&top=1",
    "tasks": {
        "completed": 1,
        "failed": 0,
        "inProgress": 0,
        "total": 1,
        "items": [
            {
                "kind": "CustomEntityRecognitionLROResults",
                "taskName": "Entity Recognition",
                "lastUpdateDateTime": "2022-05-01T00:00:00Z",
                "status": "succeeded",
                "results": {
                    "errors": [
                        {
                            "id": "2",
                            "error": {
                                "code": "InvalidArgument",
                                "message": "Invalid Document in request.",
                                "innererror": {"code": "InvalidDocument", "message": "Document text is empty."},
                            },
                        }
                    ],
                    "statistics": {
                        "documentsCount": 2,
                        "validDocumentsCount": 1,
                        "erroneousDocumentsCount": 1,
                        "transactionsCount": 1,
                    },
                    "projectName": "myProject",
                    "deploymentName": "prod",
                    "documents": [
                        {
                            "id": "1",
                            "warnings": [],
                            "statistics": {"charactersCount": 42, "transactionsCount": 1},
                            "entities": [
                                {
                                    "text": "John Smith",
                                    "category": "Person",
                                    "offset": 36,
                                    "length": 10,
                                    "confidenceScore": 0.98,
                                }
                            ],
                        }
                    ],
                },
            }
        ],
    },
}
ERROR: dict[str, Any] = {
    "error": {
        "code": "InvalidRequest",
        "message": "Invalid document batch.",
        "target": "analysisInput",
        "details": [{"code": "InvalidArgument", "message": "Too many documents."}],
        "innererror": {"code": "InvalidDocumentBatch", "message": "Batch request contains too many records."},
    }
}
ENTITY = ("tasks", "items", 0, "results", "documents", 0, "entities", 0)
RESULTS = ("tasks", "items", 0, "results")


VALID: list[tuple[str, dict[str, Any]]] = [
    ("job-state", JOB),
    (
        "job-state",
        {key: JOB[key] for key in ("jobId", "createdDateTime", "lastUpdatedDateTime", "status")}
        | {
            "status": "notStarted",
            "tasks": {"completed": 0, "failed": 0, "inProgress": 1, "total": 1},
        },
    ),
    # The real service's job-level spelling (see the schema's $comment)
    ("job-state", mutated(mutated(JOB, ("lastUpdatedDateTime",)), ("lastUpdateDateTime",), "2022-05-01T00:00:01Z")),
    # Another task kind of the same job only needs the base fields
    ("job-state", mutated(JOB, ("tasks", "items", 0, "kind"), "CustomSingleLabelClassificationLROResults")),
    ("error", ERROR),
    ("error", {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}}),
]

NEGATIVE: list[tuple[str, dict[str, Any], str, str]] = [
    # (schema, body, JSON path of the violation, schema keyword)
    ("job-state", mutated(JOB, ("jobId",)), "$", "required"),
    ("job-state", mutated(JOB, ("lastUpdatedDateTime",)), "$", "anyOf"),
    (
        "job-state",
        mutated(JOB, ("jobId",), "8ccf2ffe-e758-4d04-a44a-31512918c7e8_637858368000000000"),
        "$.jobId",
        "format",
    ),
    ("job-state", mutated(JOB, ("status",), "done"), "$.status", "enum"),
    ("job-state", mutated(JOB, ("createdDateTime",), "2022-05-01 00:00:00"), "$.createdDateTime", "format"),
    ("job-state", mutated(JOB, ("nextLink",), "/language/analyze-text/jobs?skip=1"), "$.nextLink", "format"),
    ("job-state", mutated(JOB, ("tasks", "inProgress")), "$.tasks", "required"),
    ("job-state", mutated(JOB, ("tasks", "total"), -1), "$.tasks.total", "minimum"),
    ("job-state", mutated(JOB, ("tasks", "items", 0, "lastUpdateDateTime")), "$.tasks.items[0]", "required"),
    ("job-state", mutated(JOB, ("tasks", "items", 0, "status"), "Succeeded"), "$.tasks.items[0].status", "enum"),
    ("job-state", mutated(JOB, (*RESULTS, "deploymentName")), "$.tasks.items[0].results", "required"),
    ("job-state", mutated(JOB, (*RESULTS, "errors")), "$.tasks.items[0].results", "required"),
    (
        "job-state",
        mutated(JOB, (*RESULTS, "statistics", "transactionsCount")),
        "$.tasks.items[0].results.statistics",
        "required",
    ),
    (
        "job-state",
        mutated(JOB, (*RESULTS, "documents", 0, "warnings")),
        "$.tasks.items[0].results.documents[0]",
        "required",
    ),
    (
        "job-state",
        mutated(JOB, (*RESULTS, "documents", 0, "statistics", "charactersCount"), "42"),
        "$.tasks.items[0].results.documents[0].statistics.charactersCount",
        "type",
    ),
    (
        "job-state",
        mutated(JOB, (*ENTITY, "offset"), -1),
        "$.tasks.items[0].results.documents[0].entities[0].offset",
        "minimum",
    ),
    (
        "job-state",
        mutated(JOB, (*ENTITY, "confidenceScore"), 1.5),
        "$.tasks.items[0].results.documents[0].entities[0].confidenceScore",
        "maximum",
    ),
    (
        "job-state",
        mutated(JOB, (*ENTITY, "category"), ""),
        "$.tasks.items[0].results.documents[0].entities[0].category",
        "minLength",
    ),
    ("job-state", mutated(JOB, (*ENTITY, "length")), "$.tasks.items[0].results.documents[0].entities[0]", "required"),
    (
        "job-state",
        mutated(JOB, (*RESULTS, "errors", 0, "error", "code")),
        "$.tasks.items[0].results.errors[0].error",
        "required",
    ),
    ("error", {}, "$", "required"),
    ("error", {"error": {"code": "NotFound"}}, "$.error", "required"),
    ("error", {"error": {"code": 404, "message": "Not found"}}, "$.error.code", "type"),
    ("error", mutated(ERROR, ("error", "innererror", "message")), "$.error.innererror", "required"),
    ("error", mutated(ERROR, ("error", "details", 0, "message"), None), "$.error.details[0].message", "type"),
]


def test_every_runtime_schema_has_a_valid_example_and_a_negative_case() -> None:
    assert {name for name, _ in VALID} == set(RUNTIME.names())
    assert {name for name, *_ in NEGATIVE} == set(RUNTIME.names())


@pytest.mark.parametrize(("name", "body"), VALID, ids=[f"{n}-{i}" for i, (n, _) in enumerate(VALID)])
def test_valid_example(name: str, body: dict[str, Any]) -> None:
    RUNTIME.validate(name, body)


@pytest.mark.parametrize(
    ("name", "body", "path", "keyword"), NEGATIVE, ids=[f"{n[0]}-{i}" for i, n in enumerate(NEGATIVE)]
)
def test_schema_rejects(name: str, body: dict[str, Any], path: str, keyword: str) -> None:
    with pytest.raises(ContractSchemaError) as caught:
        RUNTIME.validate(name, body)
    assert (path, keyword) in [(violation.path, violation.keyword) for violation in caught.value.violations]
    assert path in str(caught.value)


def test_every_violation_is_listed_with_its_path() -> None:
    body = mutated(mutated(JOB, ("status",), "done"), (*ENTITY, "offset"), -3)
    body["createdDateTime"] = "yesterday"
    found = [(violation.path, violation.keyword) for violation in RUNTIME.violations("job-state", body)]
    assert found == [
        ("$.createdDateTime", "format"),
        ("$.status", "enum"),
        ("$.tasks.items[0].results.documents[0].entities[0].offset", "minimum"),
    ]


@pytest.mark.parametrize("schemas", [RUNTIME, AUTHORING], ids=["runtime", "authoring"])
def test_schema_files_are_well_formed_draft_2020_12_schemas(schemas: SchemaSet) -> None:
    schemas.check_files()


def test_a_schema_whose_ref_does_not_resolve_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "runtime"
    folder.mkdir()
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://x.invalid/runtime/job-state.schema.json",
        "description": "a job",
        "$ref": "common.schema.json#/$defs/missing",
    }
    (folder / "job-state.schema.json").write_text(json.dumps(document))
    with pytest.raises(Unresolvable, match=r"common\.schema\.json"):
        SchemaSet(folder).check_files()


# 3. The official OpenAPI definitions -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", SPEC_VERSIONS)
def test_the_contract_example_validates_against_the_official_definitions(version: str) -> None:
    spec = OpenApiSpec.load(_saved_spec(version))
    assert spec.version == version
    spec.validate(JOB)


@pytest.mark.parametrize("version", SPEC_VERSIONS)
def test_the_official_definitions_report_every_violation_by_path(version: str) -> None:
    spec = OpenApiSpec.load(_saved_spec(version))
    body = mutated(mutated(JOB, (*RESULTS, "projectName")), ("jobId",), "not-a-uuid")
    body = mutated(body, (*ENTITY, "offset"), "36")
    with pytest.raises(ContractSchemaError) as caught:
        spec.validate(body)
    found = [(violation.path, violation.keyword) for violation in caught.value.violations]
    assert found == [
        ("$.jobId", "format"),
        ("$.tasks.items[0].results", "required"),
        ("$.tasks.items[0].results.documents[0].entities[0].offset", "type"),
    ]
    assert f"analyzetext.json {version}" in str(caught.value)


@pytest.mark.parametrize("version", SPEC_VERSIONS)
def test_the_real_service_breaks_the_official_definition_only_by_its_job_level_spelling(version: str) -> None:
    """Why job-state.schema.json accepts ``lastUpdateDateTime`` at job level: the recorded real answer lacks the
    spec's required ``lastUpdatedDateTime`` and is otherwise valid."""
    spec = OpenApiSpec.load(_saved_spec(version))
    shared = shared_dir()
    assert shared is not None
    recording = shared / "recordings" / "ta_recognize_custom_entities_2022-10-01-preview.json"
    if not recording.is_file():
        pytest.skip(f"{recording} absent")
    job = next(entry["ResponseBody"] for entry in recorded_entries(recording) if entry["RequestMethod"] == "GET")
    assert [str(violation) for violation in spec.violations(job)] == [
        "$: 'lastUpdatedDateTime' is a required property [required]"
    ]


def test_a_file_without_the_runtime_definitions_is_refused(tmp_path: Path) -> None:
    authoring = tmp_path / "analyzetext-authoring.json"
    authoring.write_text(json.dumps({"swagger": "2.0", "definitions": {"ProjectMetadata": {}}}), encoding="utf-8")
    with pytest.raises(ValueError, match="AnalyzeTextJobState"):
        OpenApiSpec.load(authoring)
    no_task = tmp_path / "analyzetext.json"
    no_task.write_text(json.dumps({"definitions": {"AnalyzeTextJobState": {}}}), encoding="utf-8")
    with pytest.raises(ValueError, match="CustomEntityRecognitionLROResults"):
        OpenApiSpec.load(no_task)


def test_task_items_are_checked_against_the_sub_type_their_kind_names(tmp_path: Path) -> None:
    """A minimal Swagger file: the discriminator, not the definition's name, picks the sub-type."""
    definitions = {
        "AnalyzeTextJobState": {
            "type": "object",
            "required": ["tasks"],
            "properties": {"tasks": {"type": "object", "properties": {"items": {"type": "array"}}}},
        },
        "AnalyzeTextLROResult": {"type": "object", "required": ["kind"], "discriminator": "kind"},
        "RenamedCustomNer": {
            "type": "object",
            "required": ["results"],
            "allOf": [{"$ref": "#/definitions/AnalyzeTextLROResult"}],
            "x-ms-discriminator-value": "CustomEntityRecognitionLROResults",
        },
    }
    saved = tmp_path / "analyzetext.json"
    saved.write_text(json.dumps({"info": {"version": "2099-01-01"}, "definitions": definitions}), encoding="utf-8")
    spec = OpenApiSpec.load(saved)
    job = {"tasks": {"items": [{"kind": "Other"}, {"kind": "CustomEntityRecognitionLROResults"}]}}
    assert [str(violation) for violation in spec.violations(job)] == [
        "$.tasks.items[1]: 'results' is a required property [required]"
    ]
