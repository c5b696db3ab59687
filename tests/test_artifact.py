"""Model artifacts and archives: round trips, and refusal of everything tampered, truncated, unknown or unsafe."""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator.ner import (
    ArtifactError,
    Model,
    ModelInfo,
    extract_archive,
    load_model,
    save_model,
    write_archive,
)
from emulator.ner.artifact import CRF_NAME, MANIFEST_NAME


@pytest.fixture
def model_dir(sample_model: Model, tmp_path: Path) -> Path:
    return save_model(sample_model, tmp_path / "model")


def test_saved_model_loads_and_predicts_the_same(sample_model: Model, model_dir: Path) -> None:
    loaded = load_model(model_dir)
    assert loaded.info == sample_model.info
    text = "Invoice number: INV-2024-00001\r\nInvoice date: 3 May 2024\r\n"
    assert loaded.recognizer.recognize(text) == sample_model.recognizer.recognize(text)
    manifest = json.loads((model_dir / MANIFEST_NAME).read_text())
    assert manifest["formatVersion"] == "cner-model/1"
    assert manifest["categories"] == list(sample_model.info.categories)
    assert set(manifest["files"]) == {CRF_NAME}


def test_save_refuses_to_clobber_unless_asked(sample_model: Model, model_dir: Path) -> None:
    with pytest.raises(ArtifactError, match="already holds files"):
        save_model(sample_model, model_dir)
    save_model(sample_model, model_dir, overwrite=True)
    assert sorted(p.name for p in model_dir.parent.iterdir()) == ["model"]


def _flip_byte(d: Path) -> None:
    data = bytearray((d / CRF_NAME).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (d / CRF_NAME).write_bytes(bytes(data))


def _truncate(d: Path) -> None:
    data = (d / CRF_NAME).read_bytes()
    (d / CRF_NAME).write_bytes(data[: len(data) // 2])


def _edit_manifest(**changes: object) -> Callable[[Path], None]:
    def edit(d: Path) -> None:
        manifest = json.loads((d / MANIFEST_NAME).read_text())
        manifest.update(changes)
        (d / MANIFEST_NAME).write_text(json.dumps(manifest))

    return edit


def _list_extra_file(d: Path, name: str) -> None:
    manifest = json.loads((d / MANIFEST_NAME).read_text())
    manifest["files"][name] = {"size": 1, "sha256": "0" * 64}
    (d / MANIFEST_NAME).write_text(json.dumps(manifest))


TAMPERING = [
    ("flipped-byte", _flip_byte, "does not match its SHA-256"),
    ("truncated", _truncate, "truncated or was replaced"),
    ("unknown-format", _edit_manifest(formatVersion="cner-model/9"), "unknown artifact format"),
    ("other-feature-set", _edit_manifest(featureSet="token-only/0"), "cannot serve it"),
    ("fewer-categories", _edit_manifest(categories=["InvoiceNumber"]), "do not declare"),
    ("missing-field", _edit_manifest(modelId=None), "'modelId' is missing"),
    ("unsafe-file-name", lambda d: _list_extra_file(d, "../../etc/passwd"), "is not a plain file name"),
    ("extra-file", lambda d: (d / "evil.py").write_text("import os"), "does not list (evil.py)"),
    ("missing-manifest", lambda d: (d / MANIFEST_NAME).unlink(), "manifest.json is missing"),
    ("garbage-manifest", lambda d: (d / MANIFEST_NAME).write_bytes(b"\x00{not json"), "not valid JSON"),
    ("manifest-not-object", lambda d: (d / MANIFEST_NAME).write_text("[]"), "must hold a JSON object"),
]


@pytest.mark.parametrize(("tamper", "message"), [t[1:] for t in TAMPERING], ids=[t[0] for t in TAMPERING])
def test_tampered_artifacts_are_refused(model_dir: Path, tamper: Callable[[Path], None], message: str) -> None:
    tamper(model_dir)
    with pytest.raises(ArtifactError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_model(model_dir)


def test_a_folder_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="does not exist"):
        load_model(tmp_path / "nothing")


def test_a_crf_that_is_not_a_crf_is_refused_even_with_matching_checksums(tmp_path: Path) -> None:
    info = ModelInfo("m-1", "P", "m", "en", ("A",), "2022-05-01")
    save_model(Model(info, b"definitely not a crfsuite model"), tmp_path / "m")
    with pytest.raises(ArtifactError, match="not a valid crfsuite model"):
        load_model(tmp_path / "m")


def test_archive_round_trip_is_reproducible(model_dir: Path, tmp_path: Path) -> None:
    first = write_archive(model_dir, tmp_path / "a.tar.gz").read_bytes()
    second = write_archive(model_dir, tmp_path / "b.tar.gz").read_bytes()
    assert first == second
    model = extract_archive(tmp_path / "a.tar.gz", tmp_path / "unpacked")
    assert model.info == load_model(model_dir).info


def _archive(tmp_path: Path, members: list[tarfile.TarInfo], data: bytes = b"x") -> Path:
    path = tmp_path / "evil.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for member in members:
            if member.isfile():
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
            else:
                tar.addfile(member)
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, link
    return info


UNSAFE = [
    ("path-traversal", [_member("../../etc/cron.d/evil")], "not a plain, unique file name"),
    ("absolute-path", [_member("/tmp/evil")], "not a plain, unique file name"),
    ("nested-path", [_member("sub/manifest.json")], "not a plain, unique file name"),
    ("symlink", [_member("manifest.json", tarfile.SYMTYPE, "/etc/passwd")], "not a regular file"),
    ("hardlink", [_member("manifest.json", tarfile.LNKTYPE, "/etc/passwd")], "not a regular file"),
    ("device", [_member("manifest.json", tarfile.CHRTYPE)], "not a regular file"),
    ("duplicate", [_member("manifest.json"), _member("manifest.json")], "not a plain, unique file name"),
    ("too-many", [_member(f"f{i}") for i in range(17)], "more than 16 entries"),
]


@pytest.mark.parametrize(("members", "message"), [u[1:] for u in UNSAFE], ids=[u[0] for u in UNSAFE])
def test_unsafe_archives_are_refused_and_leave_nothing_behind(
    tmp_path: Path, members: list[tarfile.TarInfo], message: str
) -> None:
    with pytest.raises(ArtifactError, match=message):
        extract_archive(_archive(tmp_path, members), tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.tar.gz"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"not an archive at all", "not a readable model archive"), (b"", "not a readable model archive")],
)
def test_garbage_archives_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "x.tar.gz"
    path.write_bytes(content)
    with pytest.raises(ArtifactError, match=message):
        extract_archive(path, tmp_path / "out")


def test_truncated_archive_keeps_the_installed_model(model_dir: Path, tmp_path: Path) -> None:
    archive = write_archive(model_dir, tmp_path / "m.tar.gz")
    installed = tmp_path / "installed"
    extract_archive(archive, installed)
    before = sorted((p.name, p.read_bytes()) for p in installed.iterdir())
    archive.write_bytes(archive.read_bytes()[:-200])
    with pytest.raises(ArtifactError):
        extract_archive(archive, installed)
    assert sorted((p.name, p.read_bytes()) for p in installed.iterdir()) == before


def test_archive_of_a_valid_layout_but_wrong_checksum_is_refused(model_dir: Path, tmp_path: Path) -> None:
    _flip_byte(model_dir)
    members = []
    for name in (MANIFEST_NAME, CRF_NAME):
        data = (model_dir / name).read_bytes()
        info = tarfile.TarInfo(name)
        info.size = len(data)
        members.append((info, data))
    path = tmp_path / "m.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ArtifactError, match="SHA-256"):
        extract_archive(path, tmp_path / "out")
