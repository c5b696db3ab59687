"""The container's prediction API over HTTP: Microsoft's SDK, the REST shapes, limits, errors, paging, cancel."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import regex
import requests
from azure.ai.textanalytics import TextAnalyticsClient
from azure.core.credentials import AzureKeyCredential
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.container import runtime as runtime_module
from emulator.container.analyze.versions import RUNTIME_VERSIONS
from emulator.container.runtime import ContainerRuntime
from emulator.container.settings import SettingsError
from emulator.web.errors import ApiError
from fixtures.public_corpora import ABSENT_REASON, shared_data_dir

from .conftest import PublishedCloud, RunningContainer, container_settings, running_container

INVOICE = (
    "Invoice INV-2024-0117 from Contoso Supplies Ltd, 12 Harbour Road, Seattle, dated 3 March 2024. "
    "Total due: 1,250.00 EUR by 2 April 2024. Contact: Ana Lopez."
)
EMOJI = "🧾 Invoice INV-2023-0042 👍🏽 from Fabrikam GmbH 🇩🇪, Berlin; total 980.50 USD due 1 May 2023 ✅."


def _jobs_url(container: RunningContainer, version: str = "2023-04-01") -> str:
    return f"{container.url}/language/analyze-text/jobs?api-version={version}"


def _body(*texts: str, project: str = "SampleInvoices", **parameters: Any) -> dict[str, Any]:
    return {
        "analysisInput": {"documents": [{"id": str(i), "text": t, "language": "en"} for i, t in enumerate(texts)]},
        "tasks": [
            {
                "kind": "CustomEntityRecognition",
                "taskName": "ner",
                "parameters": {"projectName": project, "deploymentName": "production", **parameters},
            }
        ],
    }


def _finished(location: str, **params: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        answer = requests.get(location, params=params, timeout=10)
        assert answer.status_code == 200, answer.text
        job = answer.json()
        if job["status"] in ("succeeded", "failed", "cancelled", "partiallyCompleted"):
            return dict(job)
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def _run(container: RunningContainer, body: Any, version: str = "2023-04-01", **params: str) -> dict[str, Any]:
    answer = requests.post(_jobs_url(container, version), json=body, timeout=10)
    assert answer.status_code == 202, answer.text
    return _finished(answer.headers["Operation-Location"], **params)


def _error(answer: requests.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert answer.headers["x-ms-error-code"] == body["error"]["code"]
    return dict(body["error"])


# Microsoft's SDK ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("api_version", ["2022-05-01", "2023-04-01"])
def test_sdk_recognizes_custom_entities_with_offsets_that_slice_the_text(
    container: RunningContainer, published_cloud: PublishedCloud, api_version: str
) -> None:
    client = TextAnalyticsClient(container.url, AzureKeyCredential("unused"), api_version=api_version)
    documents = [INVOICE, EMOJI, "Nothing to see here."]
    poller = client.begin_recognize_custom_entities(
        documents, project_name=published_cloud.project, deployment_name=published_cloud.deployment, show_stats=True
    )
    results = list(poller.result())
    assert [r.id for r in results] == ["0", "1", "2"]
    assert not any(r.is_error for r in results)
    found = {(e.category, e.text) for r in results for e in r.entities}
    assert ("InvoiceNumber", "INV-2024-0117") in found or len(found) >= 3, found
    for result, text in zip(results, documents, strict=True):
        assert result.statistics.character_count == len(regex.findall(r"\X", text))
        for entity in result.entities:  # the SDK asks for UnicodeCodePoint: Python str indices
            assert text[entity.offset : entity.offset + entity.length] == entity.text
            assert 0 <= entity.confidence_score <= 1
    assert any(e.text for e in results[1].entities), "the emoji document has entities"


def test_sdk_reports_per_document_errors_and_pages_25_documents(
    container: RunningContainer, published_cloud: PublishedCloud
) -> None:
    client = TextAnalyticsClient(container.url, AzureKeyCredential("unused"))
    documents = [{"id": f"d{i}", "text": INVOICE if i != 3 else "", "language": "en"} for i in range(25)]
    poller = client.begin_recognize_custom_entities(
        documents, project_name=published_cloud.project, deployment_name=published_cloud.deployment
    )
    results = list(poller.result())
    assert [r.id for r in results] == [d["id"] for d in documents]
    assert results[3].is_error
    assert results[3].error.code == "InvalidDocument"
    assert all(not r.is_error and r.entities for i, r in enumerate(results) if i != 3)


# REST shapes ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", RUNTIME_VERSIONS)
def test_submit_answers_202_with_an_absolute_operation_location_of_the_same_version(
    container: RunningContainer, version: str
) -> None:
    answer = requests.post(_jobs_url(container, version), json=_body(INVOICE), timeout=10)
    assert answer.status_code == 202
    assert answer.content == b""
    assert "Location" not in answer.headers
    location = answer.headers["Operation-Location"]
    assert location.startswith(f"{container.url}/language/analyze-text/jobs/")
    assert location.endswith(f"?api-version={version}")
    job = _finished(location)
    assert job["status"] == "succeeded"


def test_job_body_has_the_fields_clients_need(container: RunningContainer) -> None:
    body = _body(INVOICE)
    body["displayName"] = "invoices"
    job = _run(container, body)
    assert job["displayName"] == "invoices"
    for name in ("jobId", "createdDateTime", "expirationDateTime", "lastUpdatedDateTime", "status", "errors"):
        assert name in job
    assert job["tasks"] | {"items": None} == {"completed": 1, "failed": 0, "inProgress": 0, "total": 1, "items": None}
    (item,) = job["tasks"]["items"]
    assert item["kind"] == "CustomEntityRecognitionLROResults"
    assert item["taskName"] == "ner"
    assert "lastUpdateDateTime" in item
    assert item["status"] == "succeeded"
    results = item["results"]
    assert results["projectName"] == "SampleInvoices"
    assert results["deploymentName"] == "production"
    assert results["errors"] == []
    (document,) = results["documents"]
    assert document["warnings"] == []
    assert document["entities"]
    assert "statistics" not in results
    assert "statistics" not in document
    offsets = [e["offset"] for e in document["entities"]]
    assert offsets == sorted(offsets)


@pytest.mark.parametrize("unit", ["TextElements_v8", "UnicodeCodePoint", "Utf16CodeUnit", None])
def test_offsets_slice_the_document_in_each_string_index_type(container: RunningContainer, unit: str | None) -> None:
    parameters = {"stringIndexType": unit} if unit else {}
    job = _run(container, _body(EMOJI, **parameters))
    entities = job["tasks"]["items"][0]["results"]["documents"][0]["entities"]
    assert entities
    if unit in ("TextElements_v8", None):  # the default
        units = regex.findall(r"\X", EMOJI)
    elif unit == "UnicodeCodePoint":
        units = list(EMOJI)
    else:
        encoded = EMOJI.encode("utf-16-le")
        units = [encoded[i : i + 2] for i in range(0, len(encoded), 2)]
    for entity in entities:
        piece = units[entity["offset"] : entity["offset"] + entity["length"]]
        text = b"".join(piece).decode("utf-16-le") if unit == "Utf16CodeUnit" else "".join(piece)
        assert text == entity["text"]


def test_show_stats_counts_characters_and_text_records(container: RunningContainer) -> None:
    long_text = (INVOICE + " ") * 9  # a little over 1,000 characters: two text records
    body = _body(long_text, INVOICE, "")
    job = _run(container, body, showStats="True")
    results = job["tasks"]["items"][0]["results"]
    assert results["statistics"] == {
        "documentsCount": 3,
        "validDocumentsCount": 2,
        "erroneousDocumentsCount": 1,
        "transactionsCount": 3,
    }
    stats = [d["statistics"] for d in results["documents"]]
    assert stats == [
        {"charactersCount": len(long_text), "transactionsCount": 2},
        {"charactersCount": len(INVOICE), "transactionsCount": 1},
    ]


def test_several_tasks_in_one_job_each_echo_their_name(container: RunningContainer) -> None:
    body = _body(INVOICE)
    second = json.loads(json.dumps(body["tasks"][0]))
    second["taskName"] = "ner-utf16"
    second["parameters"]["stringIndexType"] = "Utf16CodeUnit"
    body["tasks"].append(second)
    job = _run(container, body)
    assert job["tasks"]["completed"] == 2
    assert [i["taskName"] for i in job["tasks"]["items"]] == ["ner", "ner-utf16"]


def test_per_document_problems_go_to_results_errors(container: RunningContainer) -> None:
    body = _body(INVOICE, "   ", INVOICE, INVOICE)
    documents = body["analysisInput"]["documents"]
    documents[2]["language"] = "xx-unknown"
    documents[3]["language"] = "auto"
    job = _run(container, body, version="2023-04-15-preview")
    results = job["tasks"]["items"][0]["results"]
    assert [d["id"] for d in results["documents"]] == ["0"]
    errors = {e["id"]: e["error"] for e in results["errors"]}
    assert errors["1"]["innererror"] == {"code": "InvalidDocument", "message": "Document text is empty."}
    assert errors["2"]["innererror"]["code"] == "UnsupportedLanguageCode"
    assert errors["3"]["innererror"]["code"] == "UnsupportedLanguageCode"
    assert all(e["code"] == "InvalidArgument" for e in errors.values())
    assert job["status"] == "succeeded"


def test_language_defaults_to_the_request_default_then_the_project(container: RunningContainer) -> None:
    body = _body(INVOICE)
    del body["analysisInput"]["documents"][0]["language"]
    assert _run(container, body)["tasks"]["items"][0]["results"]["documents"]
    body["defaultLanguage"] = "xx"
    errors = _run(container, body, version="2023-04-15-preview")["tasks"]["items"][0]["results"]["errors"]
    assert errors[0]["error"]["innererror"]["code"] == "UnsupportedLanguageCode"


def test_pages_of_20_documents_with_an_absolute_next_link(container: RunningContainer) -> None:
    job = _run(container, _body(*[INVOICE] * 25))
    first = job["tasks"]["items"][0]["results"]["documents"]
    assert [d["id"] for d in first] == [str(i) for i in range(20)]
    assert job["nextLink"].startswith(container.url)
    rest = requests.get(job["nextLink"], timeout=10).json()
    assert [d["id"] for d in rest["tasks"]["items"][0]["results"]["documents"]] == [str(i) for i in range(20, 25)]
    assert "nextLink" not in rest
    small = requests.get(job["nextLink"].split("?")[0], params={"api-version": "2023-04-01", "top": "2"}, timeout=10)
    assert [d["id"] for d in small.json()["tasks"]["items"][0]["results"]["documents"]] == ["0", "1"]


# Limits and errors ----------------------------------------------------------------------------------------


def test_more_than_25_documents_is_refused_whole(container: RunningContainer) -> None:
    answer = requests.post(_jobs_url(container), json=_body(*["a"] * 26), timeout=10)
    error = _error(answer, 400)
    assert error["code"] == "InvalidRequest"
    assert error["innererror"]["code"] == "InvalidDocumentBatch"
    assert "Max 25 records" in error["innererror"]["message"]


def test_more_than_125000_characters_is_refused_whole(container: RunningContainer) -> None:
    answer = requests.post(_jobs_url(container), json=_body("x" * 60_000, "y" * 60_000, "z" * 5_001), timeout=10)
    error = _error(answer, 400)
    assert error["innererror"]["code"] == "InvalidDocumentBatch"
    assert "125000" in error["message"]
    assert requests.post(_jobs_url(container), json=_body("x" * 60_000, "y" * 65_000), timeout=10).status_code == 202


@pytest.mark.parametrize(
    ("change", "target"),
    [
        (lambda b: b.pop("analysisInput"), "analysisInput"),
        (lambda b: b["analysisInput"].update(documents=[]), "analysisInput.documents"),
        (
            lambda b: b["analysisInput"]["documents"].append(dict(b["analysisInput"]["documents"][0])),
            "analysisInput.documents[1].id",
        ),
        (lambda b: b["analysisInput"]["documents"][0].update(text=7), "analysisInput.documents[0].text"),
        (lambda b: b["analysisInput"]["documents"][0].pop("id"), "analysisInput.documents[0].id"),
        (lambda b: b.update(tasks=[]), "tasks"),
        (lambda b: b["tasks"][0].update(kind="EntityRecognition"), "tasks[0].kind"),
        (lambda b: b["tasks"][0].update(kind="Nonsense"), "tasks[0].kind"),
        (lambda b: b["tasks"][0]["parameters"].update(projectName="Other"), "tasks[0].parameters.projectName"),
        (lambda b: b["tasks"][0]["parameters"].pop("deploymentName"), "tasks[0].parameters.deploymentName"),
        (lambda b: b["tasks"][0]["parameters"].update(stringIndexType="Bytes"), "tasks[0].parameters.stringIndexType"),
        (lambda b: b["tasks"][0]["parameters"].update(loggingOptOut="no"), "tasks[0].parameters.loggingOptOut"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field(container: RunningContainer, change: Any, target: str) -> None:
    body = _body(INVOICE)
    change(body)
    error = _error(requests.post(_jobs_url(container), json=body, timeout=10), 400)
    assert error["target"] == target
    assert error["message"]


def test_a_task_for_another_project_names_the_served_one(container: RunningContainer) -> None:
    error = _error(requests.post(_jobs_url(container), json=_body(INVOICE, project="Other"), timeout=10), 400)
    assert "'SampleInvoices'" in error["message"]
    assert "'Other'" in error["message"]


def test_bodies_that_are_not_job_objects_are_400(container: RunningContainer) -> None:
    for data in (b"", b"{", b"[]", b'"x"', b'{"analysisInput": NaN}'):
        answer = requests.post(_jobs_url(container), data=data, headers={"Content-Type": "application/json"})
        assert _error(answer, 400)["code"] == "InvalidRequest"


def test_api_version_is_required_and_checked(container: RunningContainer) -> None:
    url = f"{container.url}/language/analyze-text/jobs"
    assert _error(requests.post(url, json=_body(INVOICE), timeout=10), 400)["target"] == "api-version"
    wrong = requests.post(f"{url}?api-version=2021-01-01", json=_body(INVOICE), timeout=10)
    assert "2023-04-01" in _error(wrong, 400)["message"]
    assert _error(requests.get(f"{url}/00000000-0000-0000-0000-000000000000", timeout=10), 400)["target"] == (
        "api-version"
    )


def test_unknown_job_is_404(container: RunningContainer) -> None:
    url = f"{container.url}/language/analyze-text/jobs/00000000-0000-0000-0000-000000000000?api-version=2023-04-01"
    assert _error(requests.get(url, timeout=10), 404)["code"] == "NotFound"
    cancel = url.replace("?", ":cancel?")
    assert _error(requests.post(cancel, timeout=10), 404)["code"] == "NotFound"


def test_the_synchronous_call_refuses_custom_tasks(container: RunningContainer) -> None:
    body = {"kind": "CustomEntityRecognition", "analysisInput": {"documents": [{"id": "1", "text": INVOICE}]}}
    answer = requests.post(f"{container.url}/language/:analyze-text?api-version=2023-04-01", json=body, timeout=10)
    assert "/language/analyze-text/jobs" in _error(answer, 400)["message"]


def test_unknown_paths_and_methods_get_error_bodies(container: RunningContainer) -> None:
    assert _error(requests.get(f"{container.url}/language/nothing", timeout=10), 404)["code"] == "NotFound"
    assert _error(requests.delete(_jobs_url(container), timeout=10), 405)["code"] == "InvalidRequest"


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
        max_leaves=12,
    )
    | st.fixed_dictionaries(
        {
            "analysisInput": st.fixed_dictionaries(
                {
                    "documents": st.lists(
                        st.fixed_dictionaries(
                            {"id": st.text(max_size=3), "text": st.text(max_size=50)},
                            optional={"language": st.sampled_from(["en", "fr", "", "auto", "zz"]) | st.integers()},
                        ),
                        max_size=4,
                    )
                }
            ),
            "tasks": st.lists(
                st.fixed_dictionaries(
                    {"kind": st.sampled_from(["CustomEntityRecognition", "EntityRecognition", "x"])},
                    optional={
                        "parameters": st.fixed_dictionaries(
                            {
                                "projectName": st.sampled_from(["SampleInvoices", "x"]),
                                "deploymentName": st.text(max_size=5),
                            },
                            optional={"stringIndexType": st.sampled_from(["Utf16CodeUnit", "x"])},
                        ),
                        "taskName": st.text(max_size=5) | st.integers(),
                    },
                ),
                max_size=2,
            ),
        }
    )
)
def test_any_body_is_a_job_or_a_400_never_a_500(container: RunningContainer, body: Any) -> None:
    answer = requests.post(_jobs_url(container), json=body, timeout=10)
    assert answer.status_code in (202, 400), answer.text
    if answer.status_code == 202:
        job = _finished(answer.headers["Operation-Location"])
        assert job["status"] == "succeeded"
        documents = body["analysisInput"]["documents"]
        for item in job["tasks"]["items"]:
            results = item["results"]
            served = [d["id"] for d in results["documents"]] + [e["id"] for e in results["errors"]]
            assert sorted(served) == sorted(d["id"] for d in documents)  # one result or one error per document


# Probes ----------------------------------------------------------------------------------------------------


def test_probes_report_a_serving_container(container: RunningContainer) -> None:
    assert requests.get(f"{container.url}/ready", timeout=10).status_code == 200
    status = requests.get(f"{container.url}/status", timeout=10)
    assert status.status_code == 200
    assert status.json()["apiStatus"] == "Valid"
    home = requests.get(f"{container.url}/", timeout=10)
    assert home.status_code == 200
    assert "SampleInvoices" in home.text
    assert "text/html" in home.headers["Content-Type"]
    assert requests.get(f"{container.url}/swagger", timeout=10).status_code == 200


# Job engine bounds ---------------------------------------------------------------------------------------------


def test_cancel_and_a_full_queue(published_cloud: PublishedCloud, tmp_path: Any) -> None:
    settings_ = container_settings(published_cloud, tmp_path, "Jobs:Workers=1", "Jobs:MaxQueued=2")
    with running_container(settings_) as small:
        heavy = _body(*[(INVOICE + " ") * 30] * 25)
        first = requests.post(_jobs_url(small), json=heavy, timeout=10)
        second = requests.post(_jobs_url(small), json=heavy, timeout=10)
        third = requests.post(_jobs_url(small), json=heavy, timeout=10)
        assert (first.status_code, second.status_code) == (202, 202)
        error = _error(third, 429)
        assert error["code"] == "TooManyRequests"
        assert float(third.headers["Retry-After"]) > 0
        cancel = second.headers["Operation-Location"].replace("?", ":cancel?")
        answer = requests.post(cancel, timeout=10)
        assert answer.status_code == 202
        assert answer.headers["Operation-Location"]
        job = _finished(second.headers["Operation-Location"])
        assert job["status"] == "cancelled"
        fourth = requests.post(_jobs_url(small), json=heavy, timeout=10)  # the cancelled job freed its slot
        assert fourth.status_code == 202
        requests.post(fourth.headers["Operation-Location"].replace("?", ":cancel?"), timeout=10)
        assert job["tasks"]["items"] == []
        requests.post(first.headers["Operation-Location"].replace("?", ":cancel?"), timeout=10)
        assert _finished(first.headers["Operation-Location"])["status"] in ("cancelled", "succeeded")
        assert requests.post(_jobs_url(small), json=_body(INVOICE), timeout=10).status_code == 202


def test_a_lone_surrogate_is_refused_whole(container: RunningContainer) -> None:
    data = json.dumps(_body(INVOICE, "bad \ud800 text")).encode()  # json escapes it as \\ud800, as any client may
    answer = requests.post(_jobs_url(container), data=data, headers={"Content-Type": "application/json"}, timeout=10)
    error = _error(answer, 400)
    assert error["target"] == "analysisInput.documents[1].text"
    assert error["innererror"]["code"] == "InvalidDocument"


def test_more_than_10_tasks_is_refused(container: RunningContainer) -> None:
    body = _body(INVOICE)
    body["tasks"] = body["tasks"] * 11
    assert _error(requests.post(_jobs_url(container), json=body, timeout=10), 400)["target"] == "tasks"


@pytest.mark.parametrize(("name", "value"), [("skip", "²"), ("top", "9" * 5000), ("top", "0"), ("skip", "-1")])
def test_paging_parameters_outside_their_range_are_400(container: RunningContainer, name: str, value: str) -> None:
    job = requests.post(_jobs_url(container), json=_body(INVOICE), timeout=10).headers["Operation-Location"]
    assert _error(requests.get(job, params={name: value}, timeout=10), 400)["target"] == name


def test_retry_after_is_written_in_plain_seconds() -> None:
    with Flask(__name__).app_context():
        headers = ApiError("x", retry_after=2248853.0).response().headers
        assert headers["Retry-After"] == "2248853"
        assert ApiError("x", retry_after=0.05).response().headers["Retry-After"] == "0.05"


def test_an_unexpected_start_up_failure_ends_start_up_with_its_reason(
    published_cloud: PublishedCloud, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> None:
        raise ValueError("Invalid IPv6 URL")

    monkeypatch.setattr(runtime_module, "provide_model", broken)
    runtime = ContainerRuntime(container_settings(published_cloud, tmp_path), container_id="t")
    try:
        runtime.start()
        assert runtime.fatal.wait(10)
        assert "start-up failed unexpectedly: Invalid IPv6 URL" in (runtime.failure or "")
    finally:
        runtime.close()


def test_on_serving_runs_once_the_model_is_loaded_and_before_a_query_is_served(
    published_cloud: PublishedCloud, tmp_path: Any
) -> None:
    seen: list[str | None] = []
    runtime: ContainerRuntime | None = None

    def on_serving() -> None:
        assert runtime is not None
        refusal = runtime.refusal()
        seen.append(refusal.message if refusal is not None else None)

    runtime = ContainerRuntime(container_settings(published_cloud, tmp_path), container_id="t", on_serving=on_serving)
    try:
        runtime.start()
        deadline = time.monotonic() + 60
        while runtime.refusal() is not None:
            assert not runtime.fatal.is_set(), runtime.failure
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert len(seen) == 1
        assert "The model is not loaded yet" in (seen[0] or "")
    finally:
        runtime.close()


def test_a_damaged_usage_spool_is_a_one_line_settings_error(published_cloud: PublishedCloud, tmp_path: Any) -> None:
    settings_ = container_settings(published_cloud, tmp_path)
    spool = settings_.output_path / "metering" / "usage.sqlite3"
    spool.parent.mkdir(parents=True)
    spool.write_bytes(b"not a database" * 100)
    with pytest.raises(SettingsError, match="is not a usage spool"):
        ContainerRuntime(settings_, container_id="t")


def test_stopping_cancels_waiting_jobs_and_bills_only_what_ran(published_cloud: PublishedCloud, tmp_path: Any) -> None:
    def ledger() -> int:
        answer = requests.get(
            f"{published_cloud.url}/metering/v1/usage",
            headers={"Ocp-Apim-Subscription-Key": published_cloud.key},
            timeout=10,
        )
        return int(answer.json()["totals"].get("Transactions", 0))

    before = ledger()
    with running_container(container_settings(published_cloud, tmp_path, "Jobs:Workers=1")) as small:
        heavy = _body(*[(INVOICE + " ") * 30] * 25)
        locations = [
            requests.post(_jobs_url(small), json=heavy, timeout=10).headers["Operation-Location"] for _ in range(6)
        ]
        jobs = [small.runtime.jobs.get(loc.split("/")[-1].split("?")[0]) for loc in locations]
    statuses = [job.status for job in jobs if job is not None]
    assert statuses.count("cancelled") >= 4
    assert ledger() - before == statuses.count("succeeded")


def _shape(value: Any, path: str = "") -> set[str]:
    """The JSON paths of ``value``, list indices written ``[]``: the shape of a body without its values."""
    if isinstance(value, dict):
        return {p for k, v in value.items() for p in {f"{path}.{k}"} | _shape(v, f"{path}.{k}")}
    if isinstance(value, list):
        return {p for item in value for p in _shape(item, f"{path}[]")}
    return set()


def test_the_job_has_the_shape_of_the_recorded_real_service_answer(container: RunningContainer) -> None:
    """The same request as Microsoft's recorded SDK test, answered by us: the same JSON paths, plus the
    spec's job-level ``lastUpdatedDateTime`` the real service leaves out."""
    shared = shared_data_dir()
    name = "ta_recognize_custom_entities_2022-10-01-preview.json"
    recording = None if shared is None else shared.parent / "recordings" / name
    if recording is None or not recording.is_file():
        pytest.skip(ABSENT_REASON)
    submit, poll = json.loads(recording.read_text(encoding="utf-8"))["Entries"][:2]
    body = submit["RequestBody"]
    body["tasks"][0]["parameters"].update(projectName="SampleInvoices", deploymentName="production")
    job = _run(container, body, version="2022-10-01-preview", showStats="True")
    ours, real = _shape(job), _shape(poll["ResponseBody"])
    assert ours - real == {".lastUpdatedDateTime"}
    assert real - ours == set()
