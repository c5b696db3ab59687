"""The generated sample project: deterministic, valid Azure format, and exercising every offset unit."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

from emulator.ner import DirectorySource, parse_project
from fixtures.sample_project import CATEGORIES, PROJECT_NAME, build_project, write_project


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    write_project(tmp_path / "a", documents=15)
    write_project(tmp_path / "b", documents=15)
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    write_project(tmp_path / "c", seed=1, documents=15)
    assert _tree(tmp_path / "a") != _tree(tmp_path / "c")


def test_written_project_imports_as_written(tmp_path: Path) -> None:
    project_file = write_project(tmp_path, documents=30)
    assert project_file.name == f"{PROJECT_NAME}.json"
    imported = parse_project(json.loads(project_file.read_text(encoding="utf-8")), DirectorySource(tmp_path))
    assert imported == build_project(documents=30)


def test_labels_hold_what_their_category_says() -> None:
    project = build_project(documents=60)
    seen = set()
    for document in project.documents:
        for label in document.labels:
            value = document.text[label.start : label.end]
            seen.add(label.category)
            assert value == value.strip()
            assert value
            if label.category == "IBAN":
                assert re.fullmatch(r"[A-Z]{2}\d{2}( ?[0-9A-Z]{1,4})+", value), value
            if label.category in ("InvoiceDate", "DueDate"):
                assert re.search(r"\d", value), value
    assert seen == set(CATEGORIES)


def test_texts_exercise_crlf_emoji_and_combining_marks() -> None:
    texts = [d.text for d in build_project().documents]
    assert any("\r\n" in t for t in texts)
    assert any(any(ord(c) > 0xFFFF for c in t) for t in texts)
    assert any("\u200d" in t for t in texts)
    assert any(any(unicodedata.combining(c) for c in t) for t in texts)


def test_every_fifth_document_is_for_testing() -> None:
    datasets = [d.dataset for d in build_project(documents=20).documents]
    assert datasets.count("Test") == 4
    assert datasets.count("Train") == 16
