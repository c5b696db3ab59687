"""Microsoft's authoring SDK (azure-ai-textanalytics-authoring 1.0.0b1) against the emulator over HTTP.

The flow of sdk-clients.md §4 with Microsoft's loan-agreement sample: create, import, train, read the
evaluation, deploy, export the project, export a model for the container, read its manifest and download
it. Nothing here knows the emulator's internals: it is what a user's script does against Azure.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from emulator.ner import load_model
from emulator.web.server import BackgroundServer

from .conftest import CLOUD_KEYS

authoring = pytest.importorskip("azure.ai.textanalytics.authoring", reason="install the authoring SDK (Makefile)")
from azure.core.credentials import AzureKeyCredential  # noqa: E402
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError  # noqa: E402

PROJECT = "LoanAgreement"


@pytest.fixture
def endpoint(cloud_app: Flask, shared_data: Path) -> Iterator[str]:
    """The emulator on a loopback port, its storage holding the loan sample's texts."""
    with BackgroundServer(cloud_app) as server:
        docs = shared_data / "loan-agreements" / "azure-format" / "docs"
        for doc in sorted(docs.iterdir()):
            request = urllib.request.Request(
                f"{server.url}/_emulator/storage/loanagreement/docs/{doc.name}",
                data=doc.read_bytes(),
                method="PUT",
                headers={"Ocp-Apim-Subscription-Key": CLOUD_KEYS[0]},
            )
            with urllib.request.urlopen(request) as response:
                assert response.status == 201
        yield server.url


def _download(url: str, key: str) -> bytes:
    request = urllib.request.Request(url, headers={"Ocp-Apim-Subscription-Key": key})
    with urllib.request.urlopen(request) as response:
        data: bytes = response.read()
    return data


def test_the_sdk_flow_from_import_to_a_downloaded_model(endpoint: str, shared_data: Path, tmp_path: Path) -> None:
    credential = AzureKeyCredential(CLOUD_KEYS[0])
    client = authoring.TextAuthoringClient(endpoint, credential)
    project = authoring.TextAuthoringProjectClient(endpoint, credential, project_name=PROJECT)
    project_file: dict[str, Any] = json.loads(
        (shared_data / "loan-agreements" / "azure-format" / "LoanAgreement.json").read_text(encoding="utf-8")
    )

    created = client.create_project(PROJECT, project_file["metadata"])
    assert created.project_name == PROJECT
    project.project.begin_import(project_file, polling_interval=0).result()
    assert client.get_project(PROJECT).storage_input_container_name == "loanagreement"

    options = {"kind": "percentage", "trainingSplitPercentage": 80, "testingSplitPercentage": 20}
    body = {"modelLabel": "m1", "trainingConfigVersion": "2022-05-01", "evaluationOptions": options}
    trained = project.project.begin_train(body, polling_interval=0).result()
    assert trained.model_label == "m1"
    assert trained.training_status.status == "succeeded"
    assert trained.evaluation_status.status == "succeeded"
    assert [job.status for job in project.project.list_training_jobs()] == ["succeeded"]

    summary = project.trained_model.get_model_evaluation_summary("m1")
    assert summary["customEntityRecognitionEvaluation"]["microF1"] > 0.8
    results = list(project.trained_model.list_model_evaluation_results("m1", string_index_type="Utf16CodeUnit"))
    assert len(results) == 4  # 20 % of the sample's 20 documents
    assert [m.label for m in project.project.list_trained_models()] == ["m1"]

    project.deployment.begin_deploy_project("production", {"trainedModelLabel": "m1"}, polling_interval=0).result()
    deployment = project.deployment.get_deployment("production")
    assert deployment.model_id == project.trained_model.get_trained_model("m1").model_id

    result_url = project.project.begin_export(
        string_index_type="Utf16CodeUnit",
        polling_interval=0,
        cls=lambda pipeline_response, _, __: pipeline_response.http_response.json()["resultUrl"],
    ).result()
    exported_file = json.loads(_download(result_url, CLOUD_KEYS[0]))
    assert exported_file["assets"]["documents"] == project_file["assets"]["documents"]

    project.exported_model.begin_create_or_update_exported_model(
        "exp1", {"trainedModelLabel": "m1"}, polling_interval=0
    ).result()
    exported = project.exported_model.get_exported_model("exp1")
    assert exported.model_id == deployment.model_id
    assert [m.exported_model_name for m in project.project.list_exported_models()] == ["exp1"]
    manifest = project.exported_model.get_exported_model_manifest("exp1")
    download = tmp_path / "download"
    download.mkdir()
    for file in manifest.model_files:
        (download / file.name).write_bytes(_download(file.content_uri, CLOUD_KEYS[1]))
    model = load_model(download)
    assert model.info.model_id == exported.model_id
    assert "LoanAmountNumbers" in model.info.categories

    languages = list(client.list_supported_languages(project_kind="CustomEntityRecognition"))
    assert any(language.language_code == "en" for language in languages)
    versions = list(client.list_training_config_versions(project_kind="CustomEntityRecognition"))
    assert [v.training_config_version for v in versions] == ["2022-05-01"]

    with pytest.raises(HttpResponseError) as refused:
        project.trained_model.delete_trained_model("m1")
    assert refused.value.status_code == 409
    project.deployment.begin_delete_deployment("production", polling_interval=0).result()
    project.trained_model.delete_trained_model("m1")
    client.begin_delete_project(PROJECT, polling_interval=0).result()
    with pytest.raises(ResourceNotFoundError):
        client.get_project(PROJECT)


def test_sdk_errors_carry_the_service_codes(endpoint: str) -> None:
    client = authoring.TextAuthoringClient(endpoint, AzureKeyCredential("not-a-key"), retry_total=0)
    with pytest.raises(HttpResponseError) as denied:
        client.get_project(PROJECT)
    assert denied.value.status_code == 401
    client = authoring.TextAuthoringClient(endpoint, AzureKeyCredential(CLOUD_KEYS[0]), retry_total=0)
    with pytest.raises(ResourceNotFoundError) as missing:
        client.get_project("NoSuchProject")
    assert missing.value.error is not None
    assert missing.value.error.code == "ProjectNotFound"
