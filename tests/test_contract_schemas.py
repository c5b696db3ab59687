"""The authoring response schemas (conformance/schemas/authoring) describe the real service and can fail.

1. Microsoft's recorded authoring responses validate against the schema their request maps to.
2. Every schema rejects a broken body, naming the JSON path of the problem.
3. The example bodies of azure-contract.md §2.5, §5.1, §5.2, §6 and §7 validate.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conformance.documents import mutated
from fixtures.contract_schemas import (
    ContractSchemaError,
    is_date_time,
    is_uri,
    response_schema_for,
    schema,
    schema_names,
    validate,
    violations,
)
from fixtures.public_corpora import ABSENT_REASON, recorded_entries, recordings, shared_dir, validate_recorded_answers

JOB_ID = "8ccf2ffe-e758-4d04-a44a-31512918c7e8_637858368000000000"
ENDPOINT = "https://myresource.cognitiveservices.azure.com/language/authoring/analyze-text/projects"


RECORDINGS = recordings("authoring_*.json")
NO_RECORDINGS = ABSENT_REASON if shared_dir() is None else "no recordings/authoring_*.json in the shared folder"
RECORDING_PARAMS = [pytest.param(path, id=path.stem) for path in RECORDINGS] or [
    pytest.param(None, id="no-recordings", marks=pytest.mark.skip(reason=NO_RECORDINGS))
]


# 1. Real recorded responses ----------------------------------------------------------------------------------------

# Which schemas each recording's JSON bodies must map to: guards the route table as much as the schemas.
EXPECTED_SCHEMAS = {
    "authoring_deploy_2025-05-15-preview": {"job-state", "deployment"},
    "authoring_export_2025-05-15-preview": {"export-job-state"},
    "authoring_import_2025-05-15-preview": {"job-state"},
    "authoring_train_2025-05-15-preview": {"training-job-state"},
}
JOB_SCHEMAS = {"job-state", "export-job-state", "training-job-state", "evaluation-job-state"}


@pytest.mark.parametrize("path", RECORDING_PARAMS)
def test_recorded_responses_validate(path: Path) -> None:

    def both(name: str, body: Any) -> None:
        validate(name, body)
        if name in JOB_SCHEMAS:
            # The recordings are of a single-label classification project: job bodies are kind-agnostic.
            validate("job-state", body)

    used = validate_recorded_answers(path, response_schema_for, both)
    assert used == EXPECTED_SCHEMAS.get(path.stem, used)
    assert used, f"{path.name} has no JSON response body"


@pytest.mark.parametrize("path", RECORDING_PARAMS)
def test_recorded_operation_locations_are_absolute_job_urls(path: Path) -> None:
    for entry in recorded_entries(path):
        if entry["StatusCode"] != 202:
            continue
        headers = {key.lower(): value for key, value in entry["ResponseHeaders"].items()}
        location = headers["operation-location"]
        assert is_uri(location), location
        assert response_schema_for("GET", location) in JOB_SCHEMAS, location


def test_recorded_import_body_is_a_project_file_of_another_kind() -> None:
    shared = shared_dir()
    if shared is None:
        pytest.skip(ABSENT_REASON)
    recording = shared / "recordings" / "authoring_import_2025-05-15-preview.json"
    if not recording.is_file():
        pytest.skip(f"{recording} absent")
    body = next(entry["RequestBody"] for entry in recorded_entries(recording) if entry["RequestMethod"] == "POST")
    validate("exported-project", body)  # the generic ExportedProject accepts a single-label project ...
    paths = {violation.path for violation in violations("project-file", body)}
    assert paths == {"$.metadata.projectKind", "$.assets.projectKind"}  # ... the Custom NER one does not


def test_recorded_runtime_document_errors_have_the_shared_error_shape() -> None:
    """azure-contract.md §2.5: runtime and authoring share the error shape; the real per-document errors fit it."""
    shared = shared_dir()
    recording = None if shared is None else shared / "recordings" / "ta_custom_partial_error_2022-10-01-preview.json"
    if recording is None or not recording.is_file():
        pytest.skip(ABSENT_REASON)
    errors = [
        document_error["error"]
        for entry in recorded_entries(recording)
        if entry["ResponseBody"]
        for task in entry["ResponseBody"].get("tasks", {}).get("items", [])
        for document_error in task["results"]["errors"]
    ]
    assert errors
    for error in errors:
        validate("error", {"error": error})


def test_microsoft_loan_sample_is_a_custom_ner_project_file(shared_data: Path) -> None:
    validate(
        "project-file", json.loads((shared_data / "loan-agreements/original/loanAgreementsLabels.json").read_text())
    )
    validate("project-file", json.loads((shared_data / "loan-agreements/azure-format/LoanAgreement.json").read_text()))


# 2. Every schema can fail ------------------------------------------------------------------------------------------

STAMP = "2023-04-18T15:44:44Z"
JOB = {
    "jobId": JOB_ID,
    "createdDateTime": STAMP,
    "lastUpdatedDateTime": "2023-04-18T15:45:48Z",
    "expirationDateTime": "2023-04-25T15:44:44Z",
    "status": "running",
}
TRAINING_JOB = {
    **JOB,
    "result": {
        "modelLabel": "model1",
        "trainingConfigVersion": "2022-05-01",
        "estimatedEndDateTime": "2023-04-18T15:47:19.2465807Z",
        "trainingStatus": {"percentComplete": 3, "startDateTime": "2023-04-18T15:45:06.8190649Z", "status": "running"},
        "evaluationStatus": {"percentComplete": 0, "status": "notStarted"},
    },
}
PROJECT = {
    "createdDateTime": STAMP,
    "lastModifiedDateTime": STAMP,
    "lastTrainedDateTime": STAMP,
    "lastDeployedDateTime": STAMP,
    "projectKind": "CustomEntityRecognition",
    "storageInputContainerName": "loanagreements",
    "settings": {"confidenceThreshold": 0.5},
    "projectName": "LoanAgreements",
    "multilingual": False,
    "description": "Loan agreements",
    "language": "en-us",
}
TRAINED_MODEL = {
    "label": "model1",
    "modelId": "model1-20220418T034749-299f45b8114849538c1a750b21b05a94",
    "lastTrainedDateTime": "2022-04-18T15:47:49Z",
    "lastTrainingDurationInSeconds": 186,
    "modelExpirationDate": "2022-10-28",
    "modelTrainingConfigVersion": "2022-05-01",
    "hasSnapshot": True,
}
DEPLOYMENT = {
    "deploymentName": "production",
    "modelId": TRAINED_MODEL["modelId"],
    "lastTrainedDateTime": "2022-04-18T15:47:49Z",
    "lastDeployedDateTime": "2022-04-18T16:03:51Z",
    "deploymentExpirationDate": "2022-10-28",
    "modelTrainingConfigVersion": "2022-05-01",
    "assignedResources": [
        {"resourceId": "/subscriptions/0/resourceGroups/rg/providers/x/accounts/a", "region": "eastus"}
    ],
}
EXPORTED_MODEL = {
    "exportedModelName": "exported-model1",
    "modelId": "model1-20220418T034749-299f45b8114849538c1a750b21b05a94",
    "lastTrainedDateTime": "2023-04-18T15:47:49Z",
    "lastExportedModelDateTime": "2023-04-18T16:03:51Z",
    "modelExpirationDate": "2023-10-28",
    "modelTrainingConfigVersion": "2022-05-01",
}
MANIFEST = {
    "modelFiles": [
        {"name": "customModelFile", "contentUri": "https://myaccount.blob.core.windows.net/custommodel"},
        {"name": "BaseModelfile1", "contentUri": "https://myaccount.blob.core.windows.net/basemodel1"},
    ]
}
EVALUATION_SUMMARY = {
    "projectKind": "CustomEntityRecognition",
    "evaluationOptions": {"kind": "percentage", "trainingSplitPercentage": 80, "testingSplitPercentage": 20},
    "customEntityRecognitionEvaluation": {
        "confusionMatrix": {"<expectedEntity>": {"<predictedEntity>": {"normalizedValue": 100.0, "rawValue": 3.0}}},
        "entities": {
            "<entity>": {
                "f1": 0.67,
                "precision": 0.67,
                "recall": 0.67,
                "truePositiveCount": 2,
                "trueNegativeCount": 0,
                "falsePositiveCount": 1,
                "falseNegativeCount": 1,
            }
        },
        "microF1": 0.6,
        "microPrecision": 0.6,
        "microRecall": 0.6,
        "macroF1": 0.58,
        "macroPrecision": 0.58,
        "macroRecall": 0.58,
    },
}
EVALUATION_RESULT = {
    "projectKind": "CustomEntityRecognition",
    "location": "doc1.txt",
    "language": "en-us",
    "customEntityRecognitionResult": {
        "entities": [
            {
                "regionOffset": 0,
                "regionLength": 500,
                "expectedEntities": [{"category": "Entity1", "offset": 25, "length": 10}],
                "predictedEntities": [{"category": "Entity1", "offset": 25, "length": 10}],
            }
        ]
    },
}
PROJECT_FILE = {
    "projectFileVersion": "2022-05-01",
    "stringIndexType": "Utf16CodeUnit",
    "metadata": {
        "projectKind": "CustomEntityRecognition",
        "storageInputContainerName": "{CONTAINER-NAME}",
        "projectName": "{PROJECT-NAME}",
        "multilingual": False,
        "description": "Project-description",
        "language": "en-us",
        "settings": {},
    },
    "assets": {
        "projectKind": "CustomEntityRecognition",
        "entities": [{"category": "Entity1"}, {"category": "Entity2"}],
        "documents": [
            {
                "location": "{DOCUMENT-NAME}",
                "language": "{LANGUAGE-CODE}",
                "dataset": "{DATASET}",
                "entities": [
                    {
                        "regionOffset": 0,
                        "regionLength": 500,
                        "labels": [
                            {"category": "Entity1", "offset": 25, "length": 10},
                            {"category": "Entity2", "offset": 120, "length": 8},
                        ],
                    }
                ],
            }
        ],
    },
}
ERROR = {
    "error": {
        "code": "InvalidRequest",
        "message": "Invalid Request.",
        "target": "body",
        "details": [{"code": "InvalidArgument", "message": "Bad value."}],
        "innererror": {
            "code": "InvalidDocumentBatch",
            "message": "Batch too large.",
            "details": {"k": "v"},
            "target": "documents",
            "innererror": {"code": "InvalidDocument", "message": "Document text is empty."},
        },
    }
}


def page(item: dict[str, Any]) -> dict[str, Any]:
    return {"value": [item], "nextLink": f"{ENDPOINT}?api-version=2023-04-01&skip=1"}


VALID: dict[str, dict[str, Any]] = {
    "error": ERROR,
    "job-state": JOB,
    "training-job-state": TRAINING_JOB,
    "export-job-state": {**JOB, "status": "succeeded", "resultUrl": f"{ENDPOINT}/p/export/jobs/{JOB_ID}/result"},
    "evaluation-job-state": {
        **JOB,
        "result": {
            "evaluationOptions": {"kind": "manual"},
            "modelLabel": "model1",
            "trainingConfigVersion": "2022-05-01",
            "percentComplete": 50,
        },
    },
    "project": PROJECT,
    "projects-page": page(PROJECT),
    "trained-model": TRAINED_MODEL,
    "trained-models-page": page(TRAINED_MODEL),
    "deployment": DEPLOYMENT,
    "deployments-page": page(DEPLOYMENT),
    "exported-model": EXPORTED_MODEL,
    "exported-models-page": page(EXPORTED_MODEL),
    "exported-model-manifest": MANIFEST,
    "supported-languages-page": page({"languageName": "English", "languageCode": "en"}),
    "training-config-versions-page": page({"trainingConfigVersion": "2022-05-01", "modelExpirationDate": "2023-04-30"}),
    "training-jobs-page": page(TRAINING_JOB),
    "evaluation-summary": EVALUATION_SUMMARY,
    "evaluation-result": EVALUATION_RESULT,
    "evaluation-results-page": page(EVALUATION_RESULT),
    "exported-project": PROJECT_FILE,
    "project-file": PROJECT_FILE,
}


# (schema, broken body, JSON path of the expected violation, keyword of the expected violation)
NEGATIVE: list[tuple[str, dict[str, Any], str, str]] = [
    ("error", {"code": "x", "message": "no wrapper"}, "$", "required"),
    ("error", {**ERROR, "status": 400}, "$", "additionalProperties"),
    ("error", mutated(ERROR, ("error", "message")), "$.error", "required"),
    ("error", mutated(ERROR, ("error", "innererror", "extra"), 1), "$.error.innererror", "additionalProperties"),
    ("job-state", mutated(JOB, ("jobId",)), "$", "required"),
    ("job-state", mutated(JOB, ("status",), "done"), "$.status", "enum"),
    ("job-state", mutated(JOB, ("status",), "canceled"), "$.status", "enum"),
    ("job-state", mutated(JOB, ("jobId",), "8ccf2ffe-e758-4d04-a44a-31512918c7e8"), "$.jobId", "pattern"),
    ("job-state", mutated(JOB, ("createdDateTime",), "2023-04-18 15:44:44"), "$.createdDateTime", "format"),
    ("job-state", mutated(JOB, ("expirationDateTime",), "2023-02-30T00:00:00Z"), "$.expirationDateTime", "format"),
    ("job-state", mutated(JOB, ("lastUpdatedDateTime",), "2023-04-18"), "$.lastUpdatedDateTime", "format"),
    ("job-state", {**JOB, "warnings": [{"code": "W"}]}, "$.warnings[0]", "required"),
    ("job-state", {**JOB, "errors": [{"message": "no code"}]}, "$.errors[0]", "required"),
    ("training-job-state", mutated(TRAINING_JOB, ("result",)), "$", "required"),
    ("training-job-state", mutated(TRAINING_JOB, ("jobId",)), "$", "required"),
    ("training-job-state", mutated(TRAINING_JOB, ("result", "trainingStatus")), "$.result", "required"),
    (
        "training-job-state",
        mutated(TRAINING_JOB, ("result", "trainingStatus", "percentComplete"), 101),
        "$.result.trainingStatus.percentComplete",
        "maximum",
    ),
    (
        "training-job-state",
        mutated(TRAINING_JOB, ("result", "evaluationStatus", "status"), "ok"),
        "$.result.evaluationStatus.status",
        "enum",
    ),
    ("export-job-state", {**JOB, "status": "succeeded"}, "$", "required"),
    (
        "export-job-state",
        {**JOB, "resultUrl": f"/language/authoring/analyze-text/projects/p/export/jobs/{JOB_ID}/result"},
        "$.resultUrl",
        "format",
    ),
    (
        "evaluation-job-state",
        mutated(VALID["evaluation-job-state"], ("result", "percentComplete")),
        "$.result",
        "required",
    ),
    ("project", mutated(PROJECT, ("projectKind",), "CustomNamedEntityRecognition"), "$.projectKind", "enum"),
    ("project", mutated(PROJECT, ("lastModifiedDateTime",)), "$", "required"),
    ("project", mutated(PROJECT, ("multilingual",), "false"), "$.multilingual", "type"),
    ("projects-page", {"nextLink": None}, "$", "required"),
    ("projects-page", {"value": [mutated(PROJECT, ("language",))]}, "$.value[0]", "required"),
    ("projects-page", {"value": [], "nextLink": "projects?skip=10"}, "$.nextLink", "format"),
    (
        "trained-model",
        mutated(TRAINED_MODEL, ("modelExpirationDate",), "2022-10-28T00:00:00Z"),
        "$.modelExpirationDate",
        "format",
    ),
    (
        "trained-model",
        mutated(TRAINED_MODEL, ("lastTrainingDurationInSeconds",), 1.5),
        "$.lastTrainingDurationInSeconds",
        "type",
    ),
    ("trained-model", mutated(TRAINED_MODEL, ("hasSnapshot",), "yes"), "$.hasSnapshot", "type"),
    ("trained-models-page", page(mutated(TRAINED_MODEL, ("label",))), "$.value[0]", "required"),
    ("deployment", mutated(DEPLOYMENT, ("deploymentExpirationDate",)), "$", "required"),
    ("deployment", mutated(DEPLOYMENT, ("assignedResources", 0, "region")), "$.assignedResources[0]", "required"),
    (
        "deployments-page",
        page(mutated(DEPLOYMENT, ("lastDeployedDateTime",), "yesterday")),
        "$.value[0].lastDeployedDateTime",
        "format",
    ),
    ("exported-model", mutated(EXPORTED_MODEL, ("lastExportedModelDateTime",)), "$", "required"),
    ("exported-models-page", {"value": {}}, "$.value", "type"),
    ("exported-model-manifest", {"modelFiles": [{"name": "customModelFile"}]}, "$.modelFiles[0]", "required"),
    (
        "exported-model-manifest",
        {"modelFiles": [{"name": "f", "contentUri": "custommodel"}]},
        "$.modelFiles[0].contentUri",
        "format",
    ),
    ("exported-model-manifest", {}, "$", "required"),
    ("supported-languages-page", page({"languageName": "English"}), "$.value[0]", "required"),
    (
        "training-config-versions-page",
        page({"trainingConfigVersion": "2022-05-01", "modelExpirationDate": "30/04/2023"}),
        "$.value[0].modelExpirationDate",
        "format",
    ),
    ("training-jobs-page", page(mutated(TRAINING_JOB, ("result", "modelLabel"))), "$.value[0].result", "required"),
    (
        "evaluation-summary",
        mutated(EVALUATION_SUMMARY, ("projectKind",), "CustomSingleLabelClassification"),
        "$.projectKind",
        "const",
    ),
    (
        "evaluation-summary",
        mutated(EVALUATION_SUMMARY, ("customEntityRecognitionEvaluation", "macroF1")),
        "$.customEntityRecognitionEvaluation",
        "required",
    ),
    (
        "evaluation-summary",
        mutated(EVALUATION_SUMMARY, ("customEntityRecognitionEvaluation", "entities", "<entity>", "truePositiveCount")),
        "$.customEntityRecognitionEvaluation.entities['<entity>']",
        "required",
    ),
    (
        "evaluation-summary",
        mutated(
            EVALUATION_SUMMARY,
            (
                "customEntityRecognitionEvaluation",
                "confusionMatrix",
                "<expectedEntity>",
                "<predictedEntity>",
                "rawValue",
            ),
            "3",
        ),
        "$.customEntityRecognitionEvaluation.confusionMatrix['<expectedEntity>']['<predictedEntity>'].rawValue",
        "type",
    ),
    (
        "evaluation-result",
        mutated(EVALUATION_RESULT, ("customEntityRecognitionResult", "entities", 0, "predictedEntities")),
        "$.customEntityRecognitionResult.entities[0]",
        "required",
    ),
    (
        "evaluation-result",
        mutated(
            EVALUATION_RESULT, ("customEntityRecognitionResult", "entities", 0, "expectedEntities", 0, "offset"), "25"
        ),
        "$.customEntityRecognitionResult.entities[0].expectedEntities[0].offset",
        "type",
    ),
    ("evaluation-results-page", page(mutated(EVALUATION_RESULT, ("location",))), "$.value[0]", "required"),
    ("exported-project", mutated(PROJECT_FILE, ("stringIndexType",), "TextElements_v8"), "$.stringIndexType", "enum"),
    ("exported-project", mutated(PROJECT_FILE, ("metadata", "storageInputContainerName")), "$.metadata", "required"),
    ("exported-project", mutated(PROJECT_FILE, ("assets", "projectKind")), "$.assets", "required"),
    ("project-file", mutated(PROJECT_FILE, ("projectFileVersion",)), "$", "required"),
    (
        "project-file",
        mutated(PROJECT_FILE, ("assets", "projectKind"), "CustomMultiLabelClassification"),
        "$.assets.projectKind",
        "const",
    ),
    (
        "project-file",
        mutated(PROJECT_FILE, ("assets", "documents", 0, "entities", 0, "labels", 0, "offset"), -(2**31) - 1),
        "$.assets.documents[0].entities[0].labels[0].offset",
        "minimum",
    ),
]


def test_every_schema_has_a_valid_example_and_a_negative_case() -> None:
    assert set(VALID) == set(schema_names())
    assert {name for name, *_ in NEGATIVE} == set(schema_names())


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_example(name: str) -> None:
    validate(name, VALID[name])


@pytest.mark.parametrize(
    ("name", "body", "path", "keyword"), NEGATIVE, ids=[f"{n[0]}-{i}" for i, n in enumerate(NEGATIVE)]
)
def test_schema_rejects(name: str, body: dict[str, Any], path: str, keyword: str) -> None:
    with pytest.raises(ContractSchemaError) as caught:
        validate(name, body)
    found = [(violation.path, violation.keyword) for violation in caught.value.violations]
    assert (path, keyword) in found
    assert name in str(caught.value)
    assert path in str(caught.value)


def test_every_violation_is_listed_with_its_path() -> None:
    body = {"jobId": "x", "createdDateTime": "nope", "status": "done", "warnings": [{}]}
    with pytest.raises(ContractSchemaError) as caught:
        validate("job-state", body)
    assert [(v.path, v.keyword) for v in caught.value.violations] == [
        ("$", "required"),
        ("$.createdDateTime", "format"),
        ("$.jobId", "pattern"),
        ("$.status", "enum"),
        ("$.warnings[0]", "required"),
        ("$.warnings[0]", "required"),
    ]
    assert str(caught.value).count("\n  - ") == 6


# 3. The contract's own examples ------------------------------------------------------------------------------------

CONTRACT_EXAMPLES: list[tuple[str, dict[str, Any]]] = [
    # §5.2 (the ellipses of the doc's ids and URLs are filled in)
    ("evaluation-summary", EVALUATION_SUMMARY),
    ("evaluation-result", EVALUATION_RESULT),
    # §7
    ("exported-model", EXPORTED_MODEL),
    ("exported-model-manifest", MANIFEST),
    ("job-state", {**JOB, "status": "running"}),
    # §5.1 training job example
    ("training-job-state", TRAINING_JOB),
    # §6 project file, §2.5 error
    ("project-file", PROJECT_FILE),
    ("error", ERROR),
    # sdk-clients.md §6: the real gateway 401 (code "401" is outside the ErrorCode enum, which is extensible)
    (
        "error",
        {
            "error": {
                "code": "401",
                "message": "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide "
                "a valid key for an active subscription and use a correct regional API endpoint for your resource.",
            }
        },
    ),
    # §5: 2022-05-01 pages carry nextLink null, TypeSpec pages may omit it
    ("trained-models-page", {"value": [], "nextLink": None}),
    ("trained-models-page", {"value": []}),
    # A 2022-05-01 trained model has no hasSnapshot; a 2025-05-15-preview deployment may lack assignedResources
    ("trained-model", mutated(TRAINED_MODEL, ("hasSnapshot",))),
    ("deployment", mutated(DEPLOYMENT, ("assignedResources",))),
]


@pytest.mark.parametrize(
    ("name", "body"), CONTRACT_EXAMPLES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CONTRACT_EXAMPLES)]
)
def test_contract_example_validates(name: str, body: dict[str, Any]) -> None:
    validate(name, body)


# The schema files and the loader -----------------------------------------------------------------------------------


def test_schema_lookup() -> None:
    assert "job-state" in schema_names()
    assert "common" not in schema_names()
    copied = schema("job-state")
    copied["required"].clear()
    assert schema("job-state")["required"]  # a copy: callers cannot corrupt the loaded schema
    with pytest.raises(KeyError, match="known"):
        schema("no-such-schema")
    with pytest.raises(KeyError, match="shared definitions"):
        validate("common", {})


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2026-02-02T23:13:58Z", True),
        ("2026-02-02T23:19:15.3046282Z", True),
        ("2026-02-02t23:19:15+01:00", True),
        ("2016-12-31T23:59:60Z", True),
        ("2026-02-02T23:13:58", False),
        ("2026-02-02 23:13:58Z", False),
        ("2026-02-29T00:00:00Z", False),
        ("2026-02-02T24:00:00Z", False),
        ("2026-02-02T23:13:58+25:00", False),
        ("２026-02-02T23:13:58Z", False),
    ],
)
def test_date_time_format(value: str, ok: bool) -> None:
    assert is_date_time(value) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        (f"{ENDPOINT}/p/export/jobs/{JOB_ID}/result?api-version=2025-05-15-preview", True),
        ("http://127.0.0.1:5000/language/x?a=b%20c", True),
        ("urn:uuid:8ccf2ffe-e758-4d04-a44a-31512918c7e8", True),
        ("/language/authoring/analyze-text/projects", False),
        ("https://", False),
        ("https://host/with space", False),
        ("https://host/bad%zz", False),
    ],
)
def test_uri_format(value: str, ok: bool) -> None:
    assert is_uri(value) is ok


ROUTE_CASES: list[tuple[str, str, int, str | None]] = [
    ("GET", "/language/authoring/analyze-text/projects", 200, "projects-page"),
    ("GET", f"{ENDPOINT}?api-version=2023-04-01&top=10", 200, "projects-page"),
    ("GET", f"{ENDPOINT}/global/languages", 200, "supported-languages-page"),
    (
        "GET",
        f"{ENDPOINT}/global/training-config-versions?projectKind=CustomEntityRecognition",
        200,
        "training-config-versions-page",
    ),
    ("GET", f"{ENDPOINT}/global/deletion-jobs/{JOB_ID}", 200, "job-state"),
    ("GET", f"{ENDPOINT}/global/prebuilt-entities", 200, None),
    ("GET", f"{ENDPOINT}/p", 200, "project"),
    ("PATCH", f"{ENDPOINT}/p", 201, "project"),
    ("DELETE", f"{ENDPOINT}/p", 202, None),
    ("POST", f"{ENDPOINT}/p/:import", 202, None),
    ("GET", f"{ENDPOINT}/p/import/jobs/{JOB_ID}", 200, "job-state"),
    ("GET", f"{ENDPOINT}/p/export/jobs/{JOB_ID}", 200, "export-job-state"),
    ("GET", f"{ENDPOINT}/p/export/jobs/{JOB_ID}/result", 200, "project-file"),
    ("GET", f"{ENDPOINT}/p/train/jobs", 200, "training-jobs-page"),
    ("GET", f"{ENDPOINT}/p/train/jobs/{JOB_ID}", 200, "training-job-state"),
    ("POST", f"{ENDPOINT}/p/train/jobs/{JOB_ID}/:cancel", 202, None),
    ("GET", f"{ENDPOINT}/p/models", 200, "trained-models-page"),
    ("GET", f"{ENDPOINT}/p/models/m", 200, "trained-model"),
    ("DELETE", f"{ENDPOINT}/p/models/m", 204, None),
    ("GET", f"{ENDPOINT}/p/models/m/evaluation/summary-result", 200, "evaluation-summary"),
    ("GET", f"{ENDPOINT}/p/models/m/evaluation/result?stringIndexType=Utf16CodeUnit", 200, "evaluation-results-page"),
    ("GET", f"{ENDPOINT}/p/models/m/evaluate/jobs/{JOB_ID}", 200, "evaluation-job-state"),
    ("GET", f"{ENDPOINT}/p/models/m/load-snapshot/jobs/{JOB_ID}", 200, "job-state"),
    ("GET", f"{ENDPOINT}/p/deployments", 200, "deployments-page"),
    ("GET", f"{ENDPOINT}/p/deployments/d", 200, "deployment"),
    ("GET", f"{ENDPOINT}/p/deployments/d/jobs/{JOB_ID}", 200, "job-state"),
    ("GET", f"{ENDPOINT}/p/deployments/swap/jobs/{JOB_ID}", 200, "job-state"),
    ("GET", f"{ENDPOINT}/p/exported-models", 200, "exported-models-page"),
    ("GET", f"{ENDPOINT}/p/exported-models/e", 200, "exported-model"),
    ("GET", f"{ENDPOINT}/p/exported-models/e/jobs/{JOB_ID}", 200, "job-state"),
    ("GET", f"{ENDPOINT}/p/exported-models/e/manifest", 200, "exported-model-manifest"),
    ("GET", f"{ENDPOINT}/p/models/m", 404, "error"),
    ("POST", f"{ENDPOINT}/p/:train", 400, "error"),
]


@pytest.mark.parametrize(("method", "url", "status", "expected"), ROUTE_CASES)
def test_response_schema_for(method: str, url: str, status: int, expected: str | None) -> None:
    assert response_schema_for(method, url, status) == expected


def test_route_table_names_only_existing_schemas() -> None:
    names: set[str | None] = {expected for *_, expected in ROUTE_CASES}
    assert names - {None} <= set(schema_names())
