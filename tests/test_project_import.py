"""Reading Azure project files: what is accepted, and the precise error for each thing that is not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from emulator.ner import (
    DirectorySource,
    MappingSource,
    ProjectError,
    parse_metadata,
    parse_project,
    project_to_json,
)

TEXT = "Invoice INV-1 from Contoso Ltd 😀 to Fabrikam Inc."


def _project(**overrides: Any) -> dict[str, Any]:
    """A small valid project: two labels, the second after an emoji (UTF-16 offsets differ from code points)."""
    project = {
        "projectFileVersion": "2022-05-01",
        "stringIndexType": "Utf16CodeUnit",
        "metadata": {
            "projectKind": "CustomEntityRecognition",
            "storageInputContainerName": "invoices",
            "projectName": "Invoices",
            "multilingual": False,
            "description": "",
            "language": "en-us",
            "settings": {},
        },
        "assets": {
            "projectKind": "CustomEntityRecognition",
            "entities": [{"category": "Supplier"}, {"category": "Customer"}],
            "documents": [
                {
                    "location": "doc1.txt",
                    "language": "en-us",
                    "dataset": "Train",
                    "entities": [
                        {
                            "regionOffset": 0,
                            "regionLength": len(TEXT.encode("utf-16-le")) // 2,
                            "labels": [
                                {"category": "Customer", "offset": 37, "length": 12},
                                {"category": "Supplier", "offset": 19, "length": 11},
                            ],
                        }
                    ],
                }
            ],
        },
    }
    project.update(overrides)
    return project


def _label(project: dict[str, Any], k: int = 0) -> dict[str, Any]:
    labels: list[dict[str, Any]] = project["assets"]["documents"][0]["entities"][0]["labels"]
    return labels[k]


SOURCE = MappingSource({"doc1.txt": TEXT})


def test_valid_project_is_read_with_offsets_in_code_points() -> None:
    project = parse_project(_project(), SOURCE)
    document = project.documents[0]
    assert project.categories == ("Supplier", "Customer")
    assert [(x.category, document.text[x.start : x.end]) for x in document.labels] == [
        ("Supplier", "Contoso Ltd"),
        ("Customer", "Fabrikam Inc"),
    ]
    assert document.dataset == "Train"


def test_export_is_the_inverse_of_import() -> None:
    original = _project()
    exported = project_to_json(parse_project(original, SOURCE))
    assert parse_project(exported, SOURCE) == parse_project(original, SOURCE)
    assert exported["assets"]["documents"][0]["entities"][0]["labels"] == [
        _label(original, 1),
        _label(original, 0),
    ]


def test_byte_order_mark_is_not_counted() -> None:
    project = parse_project(_project(), MappingSource({"doc1.txt": "\ufeff".encode() + TEXT.encode()}))
    assert project.documents[0].text == TEXT


def test_documents_without_dataset_and_without_regions_are_accepted() -> None:
    data = _project()
    del data["assets"]["documents"][0]["dataset"]
    data["assets"]["documents"].append({"location": "doc2.txt", "language": "en-us"})
    project = parse_project(data, MappingSource({"doc1.txt": TEXT, "doc2.txt": "unlabelled text"}))
    assert project.documents[0].dataset is None
    assert project.documents[1].regions == ()


def _mutate(path: str, value: Any) -> dict[str, Any]:
    """A copy of the valid project with the dotted ``path`` set to ``value`` (or deleted when value is ...)."""
    data = copy.deepcopy(_project())
    node: Any = data
    keys = [int(k) if k.isdigit() else k for k in path.split(".")]
    for key in keys[:-1]:
        node = node[key]
    if value is ...:
        del node[keys[-1]]
    else:
        node[keys[-1]] = value
    return data


LABEL = "assets.documents.0.entities.0.labels.0"
REGION = "assets.documents.0.entities.0"

REJECTED = [
    # (case id, mutated project, expected issue code, target, words the message must contain)
    (
        "label-past-text",
        _mutate(f"{LABEL}.length", 200),
        "InvalidLabel",
        "labels[0]",
        ["doc1.txt", "'Customer'", "region"],
    ),
    (
        "label-outside-region",
        _mutate(f"{REGION}.regionLength", 20),
        "InvalidLabel",
        "labels[0]",
        ["doc1.txt", "inside its region 0..20"],
    ),
    (
        "region-past-text",
        _mutate(f"{REGION}.regionLength", 500),
        "InvalidDocument",
        "entities[0]",
        ["doc1.txt", "past the end of the text"],
    ),
    (
        "unknown-category",
        _mutate(f"{LABEL}.category", "Vendor"),
        "InvalidLabel",
        "labels[0].category",
        ["doc1.txt", "'Vendor'", "not declared in assets.entities"],
    ),
    (
        "overlapping-labels",
        _mutate(f"{LABEL}.offset", 25),
        "InvalidLabel",
        "entities",
        ["doc1.txt", "overlaps", "'Supplier'", "'Customer'"],
    ),
    (
        "half-a-surrogate-pair",
        _mutate(f"{LABEL}.offset", 32),
        "InvalidLabel",
        "labels[0]",
        ["doc1.txt", "between the two UTF-16 code units"],
    ),
    ("zero-length-label", _mutate(f"{LABEL}.length", 0), "InvalidLabel", "labels[0]", ["length >= 1"]),
    (
        "boolean-offset",
        _mutate(f"{LABEL}.offset", True),
        "InvalidLabel",
        "labels[0].offset",
        ["must be an integer", "not a boolean"],
    ),
    (
        "too-many-categories",
        _mutate("assets.entities", [{"category": f"C{i}"} for i in range(201)]),
        "InvalidEntity",
        "assets.entities",
        ["201", "limit is 200"],
    ),
    (
        "bad-entity-name",
        _mutate("assets.entities.0.category", "Sup:plier"),
        "InvalidEntity",
        "assets.entities[0].category",
        ["'Sup:plier'", "naming rule"],
    ),
    (
        "duplicate-entity",
        _mutate("assets.entities.1.category", "supplier"),
        "InvalidEntity",
        "assets.entities[1].category",
        ["declared twice"],
    ),
    (
        "bad-project-name",
        _mutate("metadata.projectName", "my project!"),
        "InvalidProjectFile",
        "metadata.projectName",
        ["'my project!'", "naming rule"],
    ),
    (
        "bad-container-name",
        _mutate("metadata.storageInputContainerName", "My_Container"),
        "InvalidProjectFile",
        "metadata.storageInputContainerName",
        ["naming rule"],
    ),
    (
        "wrong-project-kind",
        _mutate("metadata.projectKind", "CustomSingleLabelClassification"),
        "InvalidProjectFile",
        "metadata.projectKind",
        ["not supported"],
    ),
    (
        "missing-language",
        _mutate("metadata.language", ...),
        "InvalidProjectFile",
        "metadata.language",
        ["'language' is required"],
    ),
    (
        "old-file-version",
        _mutate("projectFileVersion", "2021-11-01-preview"),
        "InvalidProjectFile",
        "projectFileVersion",
        ["not supported", "2022-05-01"],
    ),
    (
        "wrong-index-type",
        _mutate("stringIndexType", "UnicodeCodePoint"),
        "InvalidProjectFile",
        "stringIndexType",
        ["UTF-16"],
    ),
    (
        "bad-dataset",
        _mutate("assets.documents.0.dataset", "Validation"),
        "InvalidDocument",
        "assets.documents[0].dataset",
        ["'Validation'", "'Train' or 'Test'"],
    ),
    (
        "path-traversal",
        _mutate("assets.documents.0.location", "../etc/passwd.txt"),
        "InvalidDocument",
        "assets.documents[0].location",
        ["naming rule"],
    ),
    (
        "not-txt",
        _mutate("assets.documents.0.location", "doc1.pdf"),
        "InvalidDocument",
        "assets.documents[0].location",
        ["naming rule", ".txt"],
    ),
    (
        "missing-document",
        _mutate("assets.documents.0.location", "nowhere.txt"),
        "DocumentNotFound",
        "assets.documents[0].location",
        ["'nowhere.txt'", "not found"],
    ),
]


@pytest.mark.parametrize(("data", "code", "target", "words"), [c[1:] for c in REJECTED], ids=[c[0] for c in REJECTED])
def test_each_problem_is_refused_with_a_precise_issue(
    data: dict[str, Any], code: str, target: str, words: list[str]
) -> None:
    with pytest.raises(ProjectError) as caught:
        parse_project(data, SOURCE)
    matching = [i for i in caught.value.issues if i.code == code and i.target.endswith(target)]
    assert matching, f"no {code} issue at {target}: {caught.value.issues}"
    for word in words:
        assert word in matching[0].message, (word, matching[0].message)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", ["'doc1.txt' is empty"]),
        (b"  \r\n\t ", ["'doc1.txt' is empty"]),
        (b"caf\xe9", ["not valid UTF-8", "byte 3"]),
        (b"x" * 128_001, ["128,000"]),
    ],
    ids=["empty", "whitespace-only", "latin-1", "too-long"],
)
def test_unusable_document_texts_are_refused(content: bytes, words: list[str]) -> None:
    with pytest.raises(ProjectError) as caught:
        parse_project(_project(), MappingSource({"doc1.txt": content}))
    message = caught.value.issues[0].message
    assert caught.value.issues[0].code == "InvalidDocument"
    for word in words:
        assert word in message


def test_every_problem_is_reported_at_once() -> None:
    data = _mutate(f"{LABEL}.category", "Vendor")
    data["metadata"]["projectName"] = "bad name"
    data["assets"]["documents"].append({"location": "missing.txt"})
    with pytest.raises(ProjectError) as caught:
        parse_project(data, SOURCE)
    assert {i.code for i in caught.value.issues} == {"InvalidLabel", "InvalidProjectFile", "DocumentNotFound"}
    assert "3 problem(s)" in str(caught.value)


@pytest.mark.parametrize("body", [None, [], "project", 42])
def test_a_body_that_is_not_an_object_is_refused(body: object) -> None:
    with pytest.raises(ProjectError, match="must be a JSON object"):
        parse_project(body, SOURCE)


def test_metadata_alone_is_validated_for_project_patch() -> None:
    assert parse_metadata(_project()["metadata"]).project_name == "Invoices"
    with pytest.raises(ProjectError, match="storageInputContainerName"):
        parse_metadata({"projectKind": "CustomEntityRecognition", "projectName": "p", "language": "en"})


def test_directory_source_refuses_symlinks_out_of_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret")
    root = tmp_path / "container"
    root.mkdir()
    (root / "doc1.txt").symlink_to(outside)
    with pytest.raises(ProjectError, match="outside the storage folder"):
        parse_project(_project(), DirectorySource(root))


def test_microsofts_loan_sample_is_accepted_as_shipped(shared_data: Path) -> None:
    root = shared_data / "loan-agreements" / "azure-format"
    data = json.loads((root / "LoanAgreement.json").read_text(encoding="utf-8"))
    for document in data["assets"]["documents"]:
        del document["dataset"]  # as shipped by Microsoft
    project = parse_project(data, DirectorySource(root))
    assert len(project.documents) == 20
    assert sum(len(d.labels) for d in project.documents) == 240
    first = project.documents[0]
    assert "\r\n" in first.text
    dates = [first.text[x.start : x.end] for x in first.labels if x.category == "Date"]
    assert dates == ["6/29/2018"]
    # The sloppy gold spans stay as they are.
    sloppy = [d.text[x.start : x.end] for d in project.documents for x in d.labels if x.category == "BorrowerAddress"]
    assert "of 5432 Richards Avenue" in sloppy


def test_wnut17_emoji_offsets_are_utf16(shared_data: Path) -> None:
    root = shared_data / "wnut17" / "azure-format"
    data = json.loads((root / "WNUT17.json").read_text(encoding="utf-8"))
    project = parse_project(data, DirectorySource(root))
    assert len(project.documents) == 4681
    # Every label text starts and ends on a word character once offsets are converted from UTF-16.
    astral = [d for d in project.documents if any(ord(c) > 0xFFFF for c in d.text) and d.labels]
    assert astral
    for document in astral:
        for label in document.labels:
            span = document.text[label.start : label.end]
            assert span, document.location
            assert span == span.strip(), (document.location, span)
