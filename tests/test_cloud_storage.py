"""The emulated blob storage: document uploads for :import, and what the naming rules keep off the disk."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from emulator.ner.documents import MAX_DOCUMENT_BYTES


def test_upload_read_back_and_list(client: FlaskClient) -> None:
    created = client.put("/_emulator/storage/my-docs/folder/a.txt", data="Invoice №1 — 3 €".encode())
    assert created.status_code == 201
    assert created.get_json() == {"container": "my-docs", "location": "folder/a.txt", "size": 22}
    assert client.put("/_emulator/storage/my-docs/folder/a.txt", data=b"again").status_code == 200
    with client.get("/_emulator/storage/my-docs/folder/a.txt") as read:
        assert read.get_data() == b"again"
    client.put("/_emulator/storage/my-docs/b.txt", data=b"b")
    assert client.get("/_emulator/storage/my-docs").get_json()["value"] == ["b.txt", "folder/a.txt"]


@pytest.mark.parametrize(
    "path",
    [
        "/_emulator/storage/Upper-Case/a.txt",
        "/_emulator/storage/ab/a.txt",
        "/_emulator/storage/docs/../a.txt",
        "/_emulator/storage/docs/a/./b.txt",
        "/_emulator/storage/docs/a.pdf",
        "/_emulator/storage/docs/a%5Cb.txt",
    ],
)
def test_names_outside_the_rules_are_400(client: FlaskClient, path: str) -> None:
    response = client.put(path, data=b"text")
    assert response.status_code == 400
    assert "naming rule" in response.get_json()["error"]["message"]


def test_a_document_over_128000_characters_is_413(client: FlaskClient) -> None:
    response = client.put("/_emulator/storage/docs/big.txt", data=b"x" * (MAX_DOCUMENT_BYTES + 1))
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "InvalidRequest"
    assert client.get("/_emulator/storage/docs/big.txt").status_code == 404


def test_storage_needs_the_key(cloud_app: Flask) -> None:
    assert cloud_app.test_client().put("/_emulator/storage/docs/a.txt", data=b"x").status_code == 401


def test_model_downloads_refuse_unknown_files(client: FlaskClient) -> None:
    for path in ("/_emulator/models/p/e/model.crfsuite", "/_emulator/models/p/e/..%2Fx", "/_emulator/models/../e/x"):
        assert client.get(path).status_code == 404
