"""The container's model source against the emulated cloud over HTTP: download, local reuse, replacement of a
damaged or foreign model, and what is retried and what is refused at once."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from emulator.container import model_source
from emulator.container.model_source import ModelError, model_folder, provide_model
from emulator.container.outbound import Answer, Outbound
from emulator.ner import Model, load_model, save_model
from emulator.web.ports import free_port
from tests.conftest import PublishedCloud

LOG = logging.getLogger("tests.container.model")
MANIFEST_GLOB = "/language/authoring/analyze-text/projects/*/exported-models/*/manifest"

Tamper = Callable[[str, Answer], Answer]


class Recording(Outbound):
    """The real client, recording the path or URL of every request and letting a test alter an answer."""

    def __init__(self, endpoint: str, key: str, tamper: Tamper | None = None) -> None:
        super().__init__(endpoint, key, timeout=10.0)
        self.requests: list[str] = []
        self._tamper = tamper

    def request(
        self, method: str, path: str, body: Any = None, *, timeout: float | None = None, limit: int | None = None
    ) -> Answer:
        self.requests.append(path)
        answer = super().request(method, path, body, timeout=timeout, limit=limit)
        return self._tamper(path, answer) if self._tamper else answer


class Sleeps(list[float]):
    """A ``sleep`` that waits for nothing and remembers what it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def closed_port_url() -> str:
    """A loopback URL nothing listens on: every request there is refused at once."""
    return f"http://127.0.0.1:{free_port()}"


def provide(cloud: PublishedCloud, model_path: Path, outbound: Outbound, sleeps: Sleeps, **kwargs: Any) -> Model:
    return provide_model(model_path, cloud.project, cloud.exported_model, outbound, log=LOG, sleep=sleeps, **kwargs)


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` (hidden ones too, so staging leftovers show) with its bytes."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def flip_byte(path: Path, at: int = 100) -> None:
    data = bytearray(path.read_bytes())
    data[at] ^= 0xFF
    path.write_bytes(bytes(data))


@contextmanager
def fault(cloud: PublishedCloud, rule: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A fault rule on the shared cloud, removed afterwards whether or not it was used up."""
    control = Outbound(cloud.url, cloud.key)
    created = control.request("POST", "/_emulator/faults", rule)
    assert created.status == 201, created.body
    try:
        yield created.json()
    finally:
        control.request("DELETE", f"/_emulator/faults/{created.json()['id']}")


@pytest.fixture
def cloud_files(published_cloud: PublishedCloud) -> dict[str, bytes]:
    """The exported model's files as the cloud serves them, fetched without the code under test."""
    client = Outbound(published_cloud.url, published_cloud.key)
    manifest = client.request(
        "GET",
        f"/language/authoring/analyze-text/projects/{published_cloud.project}/exported-models/"
        f"{published_cloud.exported_model}/manifest?api-version=2025-05-15-preview",
    )
    assert manifest.status == 200
    return {f["name"]: client.request("GET", f["contentUri"]).body for f in manifest.json()["modelFiles"]}


@pytest.fixture
def downloaded(published_cloud: PublishedCloud, tmp_path: Path) -> Path:
    """A model path into which the exported model was downloaded once; returns the model folder."""
    provide(published_cloud, tmp_path, Recording(published_cloud.url, published_cloud.key), Sleeps())
    return model_folder(tmp_path, published_cloud.project, published_cloud.exported_model)


def test_model_folder_is_project_then_exported_model() -> None:
    assert model_folder(Path("/modelPath"), "proj", "exp") == Path("/modelPath/proj/exp")


def test_fresh_download_puts_the_verified_model_in_place(
    published_cloud: PublishedCloud,
    tmp_path: Path,
    cloud_files: dict[str, bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbound, sleeps = Recording(published_cloud.url, published_cloud.key), Sleeps()
    with caplog.at_level(logging.INFO, logger=LOG.name):
        model = provide(published_cloud, tmp_path, outbound, sleeps)
    folder = model_folder(tmp_path, published_cloud.project, published_cloud.exported_model)
    assert model.info.project_name == published_cloud.project
    assert snapshot(tmp_path) == {
        f"{published_cloud.project}/{published_cloud.exported_model}/{name}": data for name, data in cloud_files.items()
    }
    assert load_model(folder) == model
    assert outbound.requests[0].endswith("/manifest?api-version=2025-05-15-preview")
    assert len(outbound.requests) == 1 + len(cloud_files)
    assert sleeps == []
    assert sum("downloaded model.crfsuite:" in m for m in caplog.messages) == 1


def test_a_second_start_loads_the_model_without_any_request(
    published_cloud: PublishedCloud, downloaded: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    nowhere, sleeps = Recording(closed_port_url(), published_cloud.key), Sleeps()
    with caplog.at_level(logging.INFO, logger=LOG.name):
        model = provide(published_cloud, tmp_path, nowhere, sleeps)
    assert model == load_model(downloaded)
    assert nowhere.requests == []
    assert sleeps == []
    assert any("loaded from" in m for m in caplog.messages)


def test_a_damaged_local_file_is_downloaded_again(
    published_cloud: PublishedCloud,
    downloaded: Path,
    tmp_path: Path,
    cloud_files: dict[str, bytes],
    caplog: pytest.LogCaptureFixture,
) -> None:
    flip_byte(downloaded / "model.crfsuite")
    outbound = Recording(published_cloud.url, published_cloud.key)
    with caplog.at_level(logging.INFO, logger=LOG.name):
        provide(published_cloud, tmp_path, outbound, Sleeps())
    assert (downloaded / "model.crfsuite").read_bytes() == cloud_files["model.crfsuite"]
    assert len(outbound.requests) == 1 + len(cloud_files)
    assert any("cannot be used" in r.message and r.levelno == logging.WARNING for r in caplog.records)
    assert sorted(p.name for p in downloaded.parent.iterdir()) == [published_cloud.exported_model]


def test_a_local_model_of_another_project_is_replaced(
    published_cloud: PublishedCloud, sample_model: Model, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = model_folder(tmp_path, published_cloud.project, published_cloud.exported_model)
    foreign = dataclasses.replace(sample_model.info, project_name="SomeOtherProject")
    save_model(Model(foreign, sample_model.crf), folder)
    with caplog.at_level(logging.INFO, logger=LOG.name):
        model = provide(published_cloud, tmp_path, Recording(published_cloud.url, published_cloud.key), Sleeps())
    assert model.info.project_name == published_cloud.project
    assert load_model(folder).info.project_name == published_cloud.project
    assert any("belongs to project 'SomeOtherProject'" in m for m in caplog.messages)


@pytest.mark.parametrize("which", ["project", "exported model"])
def test_an_unknown_project_or_exported_model_is_refused_at_once(
    published_cloud: PublishedCloud, tmp_path: Path, which: str
) -> None:
    project = "NoSuchProject" if which == "project" else published_cloud.project
    exported = "NoSuchModel" if which == "exported model" else published_cloud.exported_model
    outbound, sleeps = Recording(published_cloud.url, published_cloud.key), Sleeps()
    with pytest.raises(ModelError) as caught:
        provide_model(tmp_path, project, exported, outbound, log=LOG, sleep=sleeps)
    message = str(caught.value)
    assert "projectName=" in message
    assert "exportedModelName=" in message
    assert (
        f"PUT {published_cloud.url}/language/authoring/analyze-text/projects/{project}/exported-models/{exported}"
        in (message)
    )
    assert "\n" not in message
    assert len(outbound.requests) == 1
    assert sleeps == []
    assert not model_folder(tmp_path, project, exported).exists()


def test_a_refused_key_is_refused_at_once(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    outbound, sleeps = Recording(published_cloud.url, "not-a-key-of-this-resource"), Sleeps()
    with pytest.raises(ModelError, match=r"refused the key \(401") as caught:
        provide(published_cloud, tmp_path, outbound, sleeps)
    assert "ApiKey=" in str(caught.value)
    assert "not-a-key-of-this-resource" not in str(caught.value)
    assert len(outbound.requests) == 1
    assert sleeps == []


def test_transient_503_on_the_manifest_is_retried_with_backoff(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    outbound, sleeps = Recording(published_cloud.url, published_cloud.key), Sleeps()
    with fault(published_cloud, {"method": "GET", "path": MANIFEST_GLOB, "status": 503, "times": 2}):
        model = provide(published_cloud, tmp_path, outbound, sleeps, backoff=0.5)
    assert model.info.project_name == published_cloud.project
    assert sleeps == [0.5, 1.0]
    assert sum(r.endswith("/manifest?api-version=2025-05-15-preview") for r in outbound.requests) == 3


def test_a_longer_retry_after_is_honoured(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    sleeps = Sleeps()
    rule = {"method": "GET", "path": MANIFEST_GLOB, "status": 429, "retryAfter": 7, "times": 1}
    with fault(published_cloud, rule):
        provide(published_cloud, tmp_path, Recording(published_cloud.url, published_cloud.key), sleeps)
    assert sleeps == [7.0]


def corrupt_crf(path: str, answer: Answer) -> Answer:
    if not path.endswith("/model.crfsuite"):
        return answer
    body = bytearray(answer.body)
    body[100] ^= 0xFF
    return dataclasses.replace(answer, body=bytes(body))


@pytest.mark.parametrize("before", ["absent", "damaged"])
def test_bytes_wrong_every_time_fail_after_the_attempts_and_leave_the_folder_untouched(
    published_cloud: PublishedCloud, tmp_path: Path, before: str
) -> None:
    if before == "damaged":
        provide(published_cloud, tmp_path, Recording(published_cloud.url, published_cloud.key), Sleeps())
        flip_byte(model_folder(tmp_path, published_cloud.project, published_cloud.exported_model) / "manifest.json", 0)
    was = snapshot(tmp_path)
    outbound, sleeps = Recording(published_cloud.url, published_cloud.key, corrupt_crf), Sleeps()
    with pytest.raises(ModelError, match="after 3 attempts; last problem: the downloaded model failed verification"):
        provide(published_cloud, tmp_path, outbound, sleeps, attempts=3)
    assert sleeps == [1.0, 2.0]
    assert sum(r.endswith("/model.crfsuite") for r in outbound.requests) == 3
    assert snapshot(tmp_path) == was
    project_dir = tmp_path / published_cloud.project
    expected = [published_cloud.exported_model] if before == "damaged" else []
    assert sorted(p.name for p in project_dir.iterdir()) == expected


def test_an_unreachable_endpoint_fails_after_the_attempts(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    url = closed_port_url()
    outbound, sleeps = Recording(url, published_cloud.key), Sleeps()
    with pytest.raises(ModelError, match=r"after 5 attempts; last problem: .*no answer") as caught:
        provide(published_cloud, tmp_path, outbound, sleeps, backoff=10.0)
    assert url in str(caught.value)
    assert sleeps == [10.0, 20.0, 30.0, 30.0]  # doubled, capped at 30 s
    assert len(outbound.requests) == 5


def replace_manifest(body: bytes) -> Tamper:
    def tamper(path: str, answer: Answer) -> Answer:
        return dataclasses.replace(answer, body=body) if "/manifest?" in path else answer

    return tamper


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        (b"<html>Welcome to nginx</html>", "something other than"),
        (b'{"modelFiles": []}', "something other than"),
        (b'{"modelFiles": [{"name": "model.crfsuite"}]}', "an entry that is not"),
        (b'{"modelFiles": [{"name": "../evil", "contentUri": "http://x/evil"}]}', "not a plain file name"),
        (b'{"modelFiles": [{"name": "a/b", "contentUri": "http://x/b"}]}', "not a plain file name"),
        (b'{"modelFiles": [{"name": "", "contentUri": "http://x/b"}]}', "not a plain file name"),
        (b'{"modelFiles": [{"name": "..", "contentUri": "http://x/b"}]}', "not a plain file name"),
        (b'{"modelFiles": [{"name": "m", "contentUri": "file:///etc/passwd"}]}', "not an http"),
        (
            b'{"modelFiles": [{"name": "m", "contentUri": "http://x/1"}, {"name": "m", "contentUri": "http://x/2"}]}',
            "twice",
        ),
    ],
)
def test_a_manifest_that_is_not_the_expected_json_is_refused_at_once(
    published_cloud: PublishedCloud, tmp_path: Path, manifest: bytes, problem: str
) -> None:
    outbound = Recording(published_cloud.url, published_cloud.key, replace_manifest(manifest))
    sleeps = Sleeps()
    with pytest.raises(ModelError, match=problem):
        provide(published_cloud, tmp_path / "models", outbound, sleeps)
    assert len(outbound.requests) == 1
    assert sleeps == []
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == []


def test_a_downloaded_model_of_another_project_is_refused(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    def other_project(path: str, answer: Answer) -> Answer:
        if not path.endswith("/manifest.json"):
            return answer
        manifest = json.loads(answer.body)
        manifest["projectName"] = "SomeOtherProject"
        return dataclasses.replace(answer, body=json.dumps(manifest).encode())

    sleeps = Sleeps()
    outbound = Recording(published_cloud.url, published_cloud.key, other_project)
    with pytest.raises(ModelError, match="holds a model of project 'SomeOtherProject'"):
        provide(published_cloud, tmp_path, outbound, sleeps)
    assert sleeps == []
    assert list((tmp_path / published_cloud.project).iterdir()) == []


def test_a_file_over_the_size_cap_is_refused(
    published_cloud: PublishedCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_source, "MAX_FILE_BYTES", 64)
    sleeps = Sleeps()
    with pytest.raises(ModelError, match="larger than the 64 bytes a model file may have"):
        provide(published_cloud, tmp_path, Recording(published_cloud.url, published_cloud.key), sleeps)
    assert sleeps == []
    assert list((tmp_path / published_cloud.project).iterdir()) == []


def test_a_failed_file_download_is_retried_from_the_manifest(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    outbound, sleeps = Recording(published_cloud.url, published_cloud.key), Sleeps()
    rule = {"method": "GET", "path": "/_emulator/models/*/model.crfsuite", "status": 500, "times": 1}
    with fault(published_cloud, rule):
        model = provide(published_cloud, tmp_path, outbound, sleeps)
    assert model.info.project_name == published_cloud.project
    assert sleeps == [1.0]
    assert sum(r.endswith("/manifest?api-version=2025-05-15-preview") for r in outbound.requests) == 2


def test_a_model_path_that_cannot_be_written_is_refused_before_any_request(
    published_cloud: PublishedCloud, tmp_path: Path
) -> None:
    not_a_folder = tmp_path / "modelPath"
    not_a_folder.write_text("a file where the mount should be")
    outbound = Recording(published_cloud.url, published_cloud.key)
    with pytest.raises(ModelError, match=f"the model folder {not_a_folder} cannot be written"):
        provide(published_cloud, not_a_folder, outbound, Sleeps())
    assert outbound.requests == []


def test_leftovers_of_a_stopped_download_are_removed(published_cloud: PublishedCloud, tmp_path: Path) -> None:
    project_folder = tmp_path / published_cloud.project
    stale, fresh = project_folder / f".{published_cloud.exported_model}.abc", project_folder / ".SampleModel.new"
    for leftover in (stale, fresh):
        leftover.mkdir(parents=True)
        (leftover / "model.crfsuite").write_bytes(b"partial")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    provide(published_cloud, tmp_path, Recording(published_cloud.url, published_cloud.key), Sleeps())
    assert not stale.exists()
    assert fresh.exists()  # recent: maybe another container's download in progress on a shared mount
