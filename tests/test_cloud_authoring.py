"""The authoring API of the emulated resource over REST: LROs, versions, validation, persistence.

Microsoft's SDK drives the same routes in test_cloud_sdk.py; here every rule is checked on the wire,
including the refusals an SDK would never send.
"""

from __future__ import annotations

import json
import re
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from werkzeug.test import TestResponse

from emulator.cloud.app import close_app, create_app
from emulator.cloud.jobs import Progression
from emulator.cloud.resource import CloudConfig
from emulator.ner import load_model
from fixtures.contract_schemas import response_schema_for, validate
from fixtures.sample_project import CONTAINER_NAME, PROJECT_NAME, write_project

from .conftest import CLOUD_KEYS, keyed_client

V = "2025-05-15-preview"
BASE = "/language/authoring/analyze-text"
JOB_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}_\d{18}")
TERMINAL = {"succeeded", "failed", "cancelled"}


@pytest.fixture(autouse=True)
def responses_follow_the_contract_schemas(client: FlaskClient, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every authoring answer in this module must validate against the schema Azure's real answers validate
    against (tests/test_contract_schemas.py), so the emulator is held to the service's shapes, not its own."""
    original = client.open

    def checked(*args: Any, **kwargs: Any) -> TestResponse:
        response: TestResponse = original(*args, **kwargs)
        path = str(args[0] if args else kwargs.get("path", ""))
        name = response_schema_for(kwargs.get("method", "GET"), path, response.status_code)
        if path.startswith(BASE) and name is not None:
            validate(name, response.get_json())
        return response

    monkeypatch.setattr(client, "open", checked)


def url(path: str, version: str | None = V, **query: str) -> str:
    params = ({"api-version": version} if version else {}) | query
    query_string = "&".join(f"{k}={v}" for k, v in params.items())
    return f"{BASE}/{path}" + (("&" if "?" in path else "?") + query_string if params else "")


def error_of(response: TestResponse, status: int) -> dict[str, Any]:
    """The error object of an error answer, after checking its status and shape."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"]
    assert body["error"]["message"]
    assert response.headers["x-ms-error-code"] == body["error"]["code"]
    return dict(body["error"])


def poll(client: FlaskClient, operation: str, timeout: float = 60) -> dict[str, Any]:
    """Poll an Operation-Location until the job ends."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(operation)
        assert response.status_code == 200, response.get_data(as_text=True)
        body: dict[str, Any] = response.get_json()
        if body["status"] in TERMINAL:
            assert "Retry-After" not in response.headers
            return body
        assert response.headers["Retry-After"]
        assert time.monotonic() < deadline, body
        time.sleep(0.05)


def start(client: FlaskClient, method: str, path: str, **kwargs: Any) -> str:
    """Start an LRO and check the 202 the way both SDKs need it; returns the Operation-Location."""
    response = client.open(url(path), method=method, **kwargs)
    assert response.status_code == 202, response.get_data(as_text=True)
    assert response.get_data() == b""
    assert "Location" not in response.headers
    assert float(response.headers["Retry-After"]) > 0
    operation = response.headers["Operation-Location"]
    assert operation.startswith("http://localhost/language/authoring/analyze-text/")
    assert operation.endswith(f"?api-version={V}")  # the job URL carries only the api-version
    return operation.removeprefix("http://localhost")


def run(client: FlaskClient, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
    return poll(client, start(client, method, path, **kwargs))


@pytest.fixture
def project_file(client: FlaskClient, tmp_path: Path) -> dict[str, Any]:
    """The 30-document sample project, its texts uploaded to the storage container it names."""
    path = write_project(tmp_path / "sample", documents=30)
    data = json.loads(path.read_text(encoding="utf-8"))
    for document in data["assets"]["documents"]:
        text = (path.parent / document["location"]).read_bytes()
        response = client.put(f"/_emulator/storage/{CONTAINER_NAME}/{document['location']}", data=text)
        assert response.status_code == 201
    return dict(data)


@pytest.fixture
def imported(client: FlaskClient, project_file: dict[str, Any]) -> str:
    assert run(client, "POST", f"projects/{PROJECT_NAME}/:import", json=project_file)["status"] == "succeeded"
    return PROJECT_NAME


TRAIN_BODY = {
    "modelLabel": "m1",
    "trainingConfigVersion": "2022-05-01",
    "evaluationOptions": {"kind": "manual"},
}


@pytest.fixture
def trained(client: FlaskClient, imported: str) -> str:
    job = run(client, "POST", f"projects/{imported}/:train", json=TRAIN_BODY)
    assert job["status"] == "succeeded", job
    return "m1"


# api-version and key: every route ------------------------------------------------------------------

ROUTES = [
    ("GET", "projects"),
    ("GET", "projects/p1"),
    ("PATCH", "projects/p1"),
    ("DELETE", "projects/p1"),
    ("POST", "projects/p1/:import"),
    ("POST", "projects/p1/:train"),
    ("GET", "projects/p1/models"),
    ("GET", "projects/p1/deployments/d1"),
    ("PUT", "projects/p1/exported-models/e1"),
    ("GET", "projects/global/languages"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("version", [None, "2021-01-01", "2024-11-01"])
def test_missing_or_unknown_api_version_is_400(
    client: FlaskClient, method: str, path: str, version: str | None
) -> None:
    error = error_of(client.open(url(path, version), method=method, json={}), 400)
    assert error["code"] == "InvalidRequest"
    assert error["target"] == "api-version"
    assert "2025-05-15-preview" in error["message"]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("key", [None, "wrong-key", CLOUD_KEYS[0] + "x"])
def test_every_route_needs_a_key_of_the_resource(cloud_app: Flask, method: str, path: str, key: str | None) -> None:
    headers = {"Ocp-Apim-Subscription-Key": key} if key else {}
    error = error_of(cloud_app.test_client().open(url(path), method=method, json={}, headers=headers), 401)
    assert error["code"] == "401"
    assert "invalid subscription key" in error["message"]


def test_second_key_works_and_health_needs_none(cloud_app: Flask) -> None:
    anonymous = cloud_app.test_client()
    assert anonymous.get("/_emulator/health").status_code == 200
    response = anonymous.get(url("projects"), headers={"Ocp-Apim-Subscription-Key": CLOUD_KEYS[1]})
    assert response.status_code == 200


def test_unknown_path_and_method_get_error_bodies(client: FlaskClient) -> None:
    assert error_of(client.get(url("nothing/here")), 404)["code"] == "NotFound"
    assert error_of(client.post(url("projects")), 405)["code"] == "InvalidRequest"


# projects ------------------------------------------------------------------------------------------

PROJECT = {
    "projectKind": "CustomEntityRecognition",
    "storageInputContainerName": "docs-container",
    "projectName": "p1",
    "language": "en-us",
    "description": "first",
}


def test_patch_creates_201_then_updates_200_as_a_merge_patch(client: FlaskClient) -> None:
    created = client.patch(url("projects/p1"), json=PROJECT, content_type="application/merge-patch+json")
    assert created.status_code == 201
    body = created.get_json()
    assert body["projectName"] == "p1"
    assert body["multilingual"] is False
    assert body["createdDateTime"] == body["lastModifiedDateTime"]
    updated = client.patch(url("projects/p1"), json={"description": None, "language": "de"})
    assert updated.status_code == 200
    assert "description" not in updated.get_json()
    assert client.get(url("projects/p1")).get_json()["language"] == "de"


def test_patch_cannot_set_the_service_timestamps(client: FlaskClient) -> None:
    forged = {"createdDateTime": "2001-01-01T00:00:00Z", "lastTrainedDateTime": "2001-01-01T00:00:00Z"}
    created = client.patch(url("projects/p1"), json=PROJECT | forged).get_json()
    assert created["createdDateTime"] != forged["createdDateTime"]
    assert "lastTrainedDateTime" not in created
    updated = client.patch(url("projects/p1"), json=forged).get_json()
    assert updated["createdDateTime"] == created["createdDateTime"]


@pytest.mark.parametrize(
    ("change", "target"),
    [
        ({"projectKind": "CustomSingleLabelClassification"}, "projectKind"),
        ({"projectName": "other"}, "projectName"),
        ({"storageInputContainerName": "Bad_Container"}, None),
        ({"language": 42}, None),
    ],
)
def test_bad_project_metadata_is_400(client: FlaskClient, change: dict[str, Any], target: str | None) -> None:
    error = error_of(client.patch(url("projects/p1"), json=PROJECT | change), 400)
    assert error["code"] == "InvalidRequest"
    if target:
        assert error["target"] == target
    assert client.get(url("projects/p1")).status_code == 404


@pytest.mark.parametrize("name", ["a" * 51, "bad name", "semi;colon", "..", "."])
def test_illegal_names_are_400_naming_the_rule(client: FlaskClient, name: str) -> None:
    error = error_of(client.patch(url(f"projects/{name}"), json=PROJECT | {"projectName": name}), 400)
    assert "naming rule" in error["message"]


@pytest.mark.parametrize("path", ["projects/..%2F..%2Fetc", "projects/%2E%2E/models/m1", "projects/p1/models/..%2Fx"])
def test_path_traversal_never_reaches_the_disk(client: FlaskClient, path: str) -> None:
    response = client.get(url(path))
    assert response.status_code in (400, 404)
    error_of(response, response.status_code)


def test_a_body_over_the_limit_is_413(cloud_app: Flask, client: FlaskClient) -> None:
    cloud_app.config["MAX_CONTENT_LENGTH"] = 1000
    error = error_of(client.patch(url("projects/p1"), json=PROJECT | {"description": "x" * 2000}), 413)
    assert "1000 bytes" in error["message"]


def test_immediate_progression_answers_after_the_job_ended(
    cloud_app: Flask, client: FlaskClient, project_file: dict[str, Any]
) -> None:
    cloud_app.extensions["cner"].jobs.progression = Progression("immediate")
    operation = start(client, "POST", f"projects/{PROJECT_NAME}/:import", json=project_file)
    assert client.get(operation).get_json()["status"] == "succeeded"


def test_unknown_or_foreign_job_ids_are_404(client: FlaskClient, project_file: dict[str, Any]) -> None:
    operation = start(client, "POST", f"projects/{PROJECT_NAME}/:import", json=project_file)
    job_id = poll(client, operation)["jobId"]
    for path in (
        "projects/global/deletion-jobs/nope",
        f"projects/global/deletion-jobs/{job_id}",
        f"projects/{PROJECT_NAME}/export/jobs/{job_id}",
        f"projects/{PROJECT_NAME}/export/jobs/{job_id}/result",
        f"projects/other/import/jobs/{job_id}",
    ):
        assert error_of(client.get(url(path)), 404)["innererror"]["code"] == "OperationNotFound"
    cancel = client.post(url(f"projects/{PROJECT_NAME}/train/jobs/{job_id}/:cancel"))
    assert error_of(cancel, 404)["innererror"]["code"] == "OperationNotFound"


def test_jobs_expire_after_seven_days(cloud_app: Flask, client: FlaskClient, imported: str) -> None:
    operation = start(client, "POST", f"projects/{imported}/:export?stringIndexType=Utf16CodeUnit")
    poll(client, operation)
    cloud_app.extensions["cner"].clock.set_offset(timedelta(days=7, seconds=1))
    assert error_of(client.get(operation), 404)["innererror"]["code"] == "OperationNotFound"


def test_malformed_or_non_object_bodies_are_400(client: FlaskClient) -> None:
    for data in (b"{not json", b"[1, 2]", b""):
        error = error_of(client.patch(url("projects/p1"), data=data, content_type="application/json"), 400)
        assert error["innererror"]["code"] == "InvalidRequestBodyFormat"


def test_project_listing_pages_with_absolute_next_links(client: FlaskClient) -> None:
    for name in ("p1", "p2", "p3"):
        client.patch(url(f"projects/{name}"), json=PROJECT | {"projectName": name})
    first = client.get(url("projects", maxpagesize="2")).get_json()
    assert [p["projectName"] for p in first["value"]] == ["p1", "p2"]
    assert first["nextLink"].startswith("http://localhost/language/authoring/analyze-text/projects?")
    second = client.get(first["nextLink"].removeprefix("http://localhost")).get_json()
    assert [p["projectName"] for p in second["value"]] == ["p3"]
    assert "nextLink" not in second  # TypeSpec versions omit it on the last page
    old = client.get(url("projects", "2022-05-01", top="1", skip="1")).get_json()
    assert [p["projectName"] for p in old["value"]] == ["p2"]
    assert old["nextLink"] is None  # 2022-05-01 requires it, null on the last page
    assert error_of(client.get(url("projects", top="-1")), 400)["target"] == "top"


def test_delete_project_is_an_lro_with_a_global_deletion_job(client: FlaskClient, imported: str) -> None:
    operation = start(client, "DELETE", f"projects/{imported}")
    assert "/projects/global/deletion-jobs/" in operation
    assert poll(client, operation)["status"] == "succeeded"
    assert error_of(client.get(url(f"projects/{imported}")), 404)["code"] == "ProjectNotFound"


# import / export -------------------------------------------------------------------------------------


def test_import_job_state_has_the_service_shape(client: FlaskClient, project_file: dict[str, Any]) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    job = run(client, "POST", f"projects/{PROJECT_NAME}/:import", json=project_file)
    assert job["status"] == "succeeded"
    assert JOB_ID.fullmatch(job["jobId"])
    created = datetime.fromisoformat(job["createdDateTime"])
    assert created >= before
    assert datetime.fromisoformat(job["expirationDateTime"]) - created == timedelta(days=7)
    project = client.get(url(f"projects/{PROJECT_NAME}")).get_json()
    assert project["storageInputContainerName"] == CONTAINER_NAME


def test_import_reports_missing_documents_as_job_errors(client: FlaskClient, project_file: dict[str, Any]) -> None:
    project_file["assets"]["documents"][3]["location"] = "docs/missing-one.txt"
    job = run(client, "POST", f"projects/{PROJECT_NAME}/:import", json=project_file)
    assert job["status"] == "failed"
    assert ["missing-one.txt" in e["message"] for e in job["errors"]] == [True]
    assert job["errors"][0]["innererror"]["code"] == "DocumentNotFound"
    assert client.get(url(f"projects/{PROJECT_NAME}")).status_code == 404


@pytest.mark.parametrize(
    ("mutate", "fragment"),
    [
        (lambda f: f["assets"]["documents"][0]["entities"][0]["labels"][0].update(offset=10**6), "labels[0]"),
        (lambda f: f["assets"].update(projectKind="CustomHealthcare"), "projectKind"),
        (lambda f: f["assets"]["entities"].append({"category": "Bad/Name"}), "entities"),
        (lambda f: f.update(stringIndexType="UnicodeCodePoint"), "stringIndexType"),
        (lambda f: f["metadata"].update(projectName="Other"), "projectName"),
        (lambda f: f["assets"]["documents"][0].update(location="../../etc/passwd.txt"), "location"),
    ],
)
def test_import_refuses_what_the_body_shows_with_400(
    client: FlaskClient, project_file: dict[str, Any], mutate: Any, fragment: str
) -> None:
    mutate(project_file)
    response = client.post(url(f"projects/{PROJECT_NAME}/:import"), json=project_file)
    error = error_of(response, 400)
    assert fragment in json.dumps(error)


def test_export_returns_the_imported_project_file(
    client: FlaskClient, imported: str, project_file: dict[str, Any]
) -> None:
    job = run(client, "POST", f"projects/{imported}/:export?stringIndexType=Utf16CodeUnit")
    result = client.get(job["resultUrl"].removeprefix("http://localhost"))
    assert result.status_code == 200
    exported = result.get_json()
    assert exported["projectFileVersion"] == V
    assert exported["assets"]["documents"] == project_file["assets"]["documents"]
    assert exported["assets"]["entities"] == project_file["assets"]["entities"]
    error = error_of(client.post(url(f"projects/{imported}/:export")), 400)
    assert error["target"] == "stringIndexType"


def test_import_of_a_project_replaces_its_data(
    client: FlaskClient, imported: str, project_file: dict[str, Any]
) -> None:
    project_file["assets"]["documents"] = project_file["assets"]["documents"][:12]
    assert run(client, "POST", f"projects/{imported}/:import", json=project_file)["status"] == "succeeded"
    job = run(client, "POST", f"projects/{imported}/:export?stringIndexType=Utf16CodeUnit")
    exported = client.get(job["resultUrl"].removeprefix("http://localhost")).get_json()
    assert len(exported["assets"]["documents"]) == 12


# training, models, evaluation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "target"),
    [
        ({"trainingConfigVersion": "2022-05-01"}, "modelLabel"),
        (TRAIN_BODY | {"modelLabel": "bad label"}, "modellabel"),
        (TRAIN_BODY | {"trainingConfigVersion": "1999-01-01"}, "trainingConfigVersion"),
        (TRAIN_BODY | {"evaluationOptions": {"kind": "random"}}, "evaluationOptions.kind"),
        (TRAIN_BODY | {"evaluationOptions": {"trainingSplitPercentage": 90, "testingSplitPercentage": 20}}, None),
        (TRAIN_BODY | {"evaluationOptions": {"trainingSplitPercentage": "80"}}, None),
    ],
)
def test_bad_training_requests_are_400(
    client: FlaskClient, imported: str, body: dict[str, Any], target: str | None
) -> None:
    error = error_of(client.post(url(f"projects/{imported}/:train"), json=body), 400)
    if target:
        assert error["target"] == target


def test_training_needs_imported_data(client: FlaskClient) -> None:
    client.patch(url("projects/p1"), json=PROJECT)
    assert "import" in error_of(client.post(url("projects/p1/:train"), json=TRAIN_BODY), 400)["message"]


def test_training_job_reports_training_then_evaluation(client: FlaskClient, imported: str) -> None:
    job = run(client, "POST", f"projects/{imported}/:train", json=TRAIN_BODY | {"trainingConfigVersion": "latest"})
    result = job["result"]
    assert job["status"] == "succeeded"
    assert result["modelLabel"] == "m1"
    assert result["trainingConfigVersion"] == "2022-05-01"
    assert result["trainingStatus"]["status"] == "succeeded"
    assert result["trainingStatus"]["percentComplete"] == 100
    assert result["evaluationStatus"]["status"] == "succeeded"
    assert result["trainingStatus"]["startDateTime"] <= result["trainingStatus"]["endDateTime"]
    jobs = client.get(url(f"projects/{imported}/train/jobs")).get_json()["value"]
    assert [j["jobId"] for j in jobs] == [job["jobId"]]


def test_training_fewer_than_ten_labelled_documents_fails_the_job_saying_so(
    client: FlaskClient, project_file: dict[str, Any]
) -> None:
    project_file["assets"]["documents"] = project_file["assets"]["documents"][:9]
    run(client, "POST", f"projects/{PROJECT_NAME}/:import", json=project_file)
    job = run(client, "POST", f"projects/{PROJECT_NAME}/:train", json=TRAIN_BODY)
    assert job["status"] == "failed"
    assert "at least 10" in job["errors"][0]["message"]
    assert client.get(url(f"projects/{PROJECT_NAME}/models")).get_json()["value"] == []


def test_models_follow_the_version_and_delete_with_204(client: FlaskClient, imported: str, trained: str) -> None:
    model = client.get(url(f"projects/{imported}/models/{trained}")).get_json()
    assert model["label"] == trained
    assert model["modelId"].startswith(f"{trained}-")
    assert model["hasSnapshot"] is False
    old = client.get(url(f"projects/{imported}/models/{trained}", "2022-05-01")).get_json()
    assert "hasSnapshot" not in old
    assert client.delete(url(f"projects/{imported}/models/{trained}")).status_code == 204
    assert error_of(client.get(url(f"projects/{imported}/models/{trained}")), 404)["code"] == "NotFound"
    assert error_of(client.delete(url(f"projects/{imported}/models/{trained}")), 404)["code"] == "NotFound"


def test_evaluation_summary_and_paged_results(
    client: FlaskClient, project_file: dict[str, Any], imported: str, trained: str
) -> None:
    summary = client.get(url(f"projects/{imported}/models/{trained}/evaluation/summary-result")).get_json()
    assert summary["projectKind"] == "CustomEntityRecognition"
    assert summary["evaluationOptions"]["kind"] == "manual"
    assert 0.5 < summary["customEntityRecognitionEvaluation"]["microF1"] <= 1
    path = f"projects/{imported}/models/{trained}/evaluation/result"
    assert error_of(client.get(url(path)), 400)["target"] == "stringIndexType"
    first = client.get(url(path, stringIndexType="Utf16CodeUnit", maxpagesize="2")).get_json()
    assert len(first["value"]) == 2
    assert first["nextLink"]
    documents = project_file["assets"]["documents"]
    tests = {d["location"] for d in documents if d.get("dataset") == "Test" and d["entities"]}
    everything, page = list(first["value"]), first
    while page.get("nextLink"):
        page = client.get(page["nextLink"].removeprefix("http://localhost")).get_json()
        everything += page["value"]
    assert sorted(d["location"] for d in everything) == sorted(tests)


def _wait_for(client: FlaskClient, operation: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 60
    while (body := client.get(operation).get_json())["status"] != status:
        assert time.monotonic() < deadline, body
        assert body["status"] not in TERMINAL - {status}, body
        time.sleep(0.02)
    return dict(body)


def test_cancelling_a_waiting_training_job(cloud_app: Flask, client: FlaskClient, imported: str) -> None:
    cloud_app.extensions["cner"].jobs.progression = Progression("manual")
    operation = start(client, "POST", f"projects/{imported}/:train", json=TRAIN_BODY)
    assert client.get(operation).get_json()["status"] == "notStarted"
    assert error_of(client.post(url(f"projects/{imported}/:train"), json=TRAIN_BODY), 409)["code"] == "Conflict"
    job_id = operation.split("/")[-1].split("?")[0]
    cancel = start(client, "POST", f"projects/{imported}/train/jobs/{job_id}/:cancel")
    assert cancel == operation
    assert poll(client, operation)["status"] == "cancelled"
    assert client.get(url(f"projects/{imported}/models")).get_json()["value"] == []


def test_cancelling_a_running_training_kills_it_and_keeps_no_model(
    cloud_app: Flask, client: FlaskClient, imported: str
) -> None:
    cloud_app.extensions["cner"].jobs.progression = Progression("timed")
    operation = start(client, "POST", f"projects/{imported}/:train", json=TRAIN_BODY)
    _wait_for(client, operation, "running")
    job_id = operation.split("/")[-1].split("?")[0]
    start(client, "POST", f"projects/{imported}/train/jobs/{job_id}/:cancel")
    assert poll(client, operation)["status"] == "cancelled"
    assert client.get(url(f"projects/{imported}/models")).get_json()["value"] == []
    models = cloud_app.extensions["cner"].layout.model(imported, "m1").parent
    assert not models.exists() or not any(p.name == "m1" for p in models.iterdir())


def test_reset_stops_a_running_training_before_emptying_the_store(
    cloud_app: Flask, client: FlaskClient, imported: str
) -> None:
    operation = start(client, "POST", f"projects/{imported}/:train", json=TRAIN_BODY)
    _wait_for(client, operation, "running")
    assert client.post("/_emulator/reset").status_code == 204
    assert error_of(client.get(url(f"projects/{imported}")), 404)["code"] == "ProjectNotFound"
    assert error_of(client.get(operation), 404)["code"] == "NotFound"
    assert not cloud_app.extensions["cner"].layout.project(imported).exists()


# deployments and exported models ---------------------------------------------------------------------


def test_deploy_swap_and_delete(client: FlaskClient, imported: str, trained: str) -> None:
    assert (
        run(client, "PUT", f"projects/{imported}/deployments/prod", json={"trainedModelLabel": trained})["status"]
        == "succeeded"
    )
    deployment = client.get(url(f"projects/{imported}/deployments/prod")).get_json()
    model = client.get(url(f"projects/{imported}/models/{trained}")).get_json()
    assert deployment["modelId"] == model["modelId"]
    assert deployment["assignedResources"] == []
    old = client.get(url(f"projects/{imported}/deployments/prod", "2023-04-01")).get_json()
    assert "assignedResources" not in old
    assert error_of(client.delete(url(f"projects/{imported}/models/{trained}")), 409)["code"] == "Conflict"
    run(client, "PUT", f"projects/{imported}/deployments/staging", json={"trainedModelLabel": trained})
    swap = start(
        client,
        "POST",
        f"projects/{imported}/deployments/:swap",
        json={"firstDeploymentName": "prod", "secondDeploymentName": "staging"},
    )
    assert "/deployments/swap/jobs/" in swap
    assert poll(client, swap)["status"] == "succeeded"
    names = [d["deploymentName"] for d in client.get(url(f"projects/{imported}/deployments")).get_json()["value"]]
    assert names == ["prod", "staging"]
    assert run(client, "DELETE", f"projects/{imported}/deployments/prod")["status"] == "succeeded"
    assert error_of(client.get(url(f"projects/{imported}/deployments/prod")), 404)["code"] == "NotFound"
    missing = client.put(url(f"projects/{imported}/deployments/x"), json={"trainedModelLabel": "nope"})
    assert error_of(missing, 404)["code"] == "NotFound"


def test_exported_model_manifest_serves_a_verified_artifact(
    cloud_app: Flask, client: FlaskClient, imported: str, trained: str, tmp_path: Path
) -> None:
    job = run(client, "PUT", f"projects/{imported}/exported-models/exp1", json={"TrainedmodelLabel": trained})
    assert job["status"] == "succeeded"
    exported = client.get(url(f"projects/{imported}/exported-models/exp1")).get_json()
    assert exported["exportedModelName"] == "exp1"
    manifest = client.get(url(f"projects/{imported}/exported-models/exp1/manifest")).get_json()
    assert {f["name"] for f in manifest["modelFiles"]} == {"manifest.json", "model.crfsuite"}
    download = tmp_path / "download"
    download.mkdir()
    for file in manifest["modelFiles"]:
        path = file["contentUri"].removeprefix("http://localhost")
        assert error_of(cloud_app.test_client().get(path), 401)["code"] == "401"
        with client.get(path) as response:
            assert response.status_code == 200
            (download / file["name"]).write_bytes(response.get_data())
    assert load_model(download).info.model_id == exported["modelId"]
    error = error_of(client.get(url(f"projects/{imported}/exported-models/exp1", "2023-04-01")), 404)
    assert "2023-04-15-preview" in error["message"]
    assert run(client, "DELETE", f"projects/{imported}/exported-models/exp1")["status"] == "succeeded"
    assert client.get(url(f"projects/{imported}/exported-models")).get_json()["value"] == []


def test_catalog_lists_languages_and_the_custom_ner_config_version(client: FlaskClient) -> None:
    versions = client.get(url("projects/global/training-config-versions", projectKind="CustomEntityRecognition"))
    assert versions.get_json()["value"][0]["trainingConfigVersion"] == "2022-05-01"
    assert error_of(client.get(url("projects/global/training-config-versions", "2022-05-01")), 400)["target"] == (
        "projectKind"
    )
    languages = client.get(url("projects/global/languages")).get_json()["value"]
    assert {"languageName": "English", "languageCode": "en"} in languages


# never a 500 --------------------------------------------------------------------------------------------

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=20), children, max_size=4),
    max_leaves=20,
)
BODY_ROUTES = [
    ("PATCH", "projects/p1"),
    ("POST", "projects/p1/:import"),
    ("POST", "projects/p1/:train"),
    ("PUT", "projects/p1/deployments/d1"),
    ("POST", "projects/p1/deployments/:swap"),
    ("PUT", "projects/p1/exported-models/e1"),
]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    route=st.sampled_from(BODY_ROUTES),
    body=JSON_VALUES | st.fixed_dictionaries({}, optional={k: JSON_VALUES for k in PROJECT | TRAIN_BODY}),
)
def test_any_json_body_gets_an_answer_never_a_500(client: FlaskClient, route: tuple[str, str], body: Any) -> None:
    client.patch(url("projects/p1"), json=PROJECT)
    response = client.open(url(route[1]), method=route[0], data=json.dumps(body), content_type="application/json")
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        error_of(response, response.status_code)


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=st.text(min_size=1, max_size=60), method=st.sampled_from(["GET", "PATCH", "DELETE"]))
@example(name="/0", method="GET")  # "%2F0" decodes to "//0": werkzeug once answered an HTML 308 redirect
def test_any_name_in_the_path_gets_an_answer_never_a_500(client: FlaskClient, name: str, method: str) -> None:
    path = url("projects/" + quote(name, safe=""))
    response = client.open(path, method=method, json=PROJECT | {"projectName": name})
    assert response.status_code in (200, 201, 202, 400, 404), response.get_data(as_text=True)
    if response.status_code >= 400:
        error_of(response, response.status_code)


# persistence and concurrency ------------------------------------------------------------------------------


def test_a_restart_loses_no_resource_and_finishes_acknowledged_jobs(
    cloud_config: CloudConfig, cloud_app: Flask, client: FlaskClient, imported: str, trained: str
) -> None:
    cloud_app.extensions["cner"].jobs.progression = Progression("manual")
    operation = start(client, "PUT", f"projects/{imported}/deployments/prod", json={"trainedModelLabel": trained})
    close_app(cloud_app)
    again = create_app(cloud_config)
    try:
        second = keyed_client(again)
        assert second.get(url(f"projects/{imported}/models/{trained}")).status_code == 200
        assert poll(second, operation)["status"] == "succeeded"
        assert second.get(url(f"projects/{imported}/deployments/prod")).status_code == 200
    finally:
        close_app(again)


def test_concurrent_patches_of_one_project_all_land(client: FlaskClient) -> None:
    client.patch(url("projects/p1"), json=PROJECT)

    def patch(number: int) -> None:
        assert client.patch(url("projects/p1"), json={f"x{number}": number}).status_code == 200

    threads = [threading.Thread(target=patch, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = client.get(url("projects/p1")).get_json()
    assert {f"x{n}": n for n in range(20)}.items() <= stored.items()


def test_concurrent_writers_lose_nothing(client: FlaskClient) -> None:
    statuses: list[int] = []

    def create(number: int) -> None:
        body = PROJECT | {"projectName": f"p{number}"}
        statuses.append(client.patch(url(f"projects/p{number}"), json=body).status_code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [201] * 20
    listed = client.get(url("projects", maxpagesize="100")).get_json()["value"]
    assert sorted(p["projectName"] for p in listed) == sorted(f"p{n}" for n in range(20))
