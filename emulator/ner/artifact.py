"""Model artifacts: the folder a trained model is exported as and the container loads.

::

    MODEL_DIR/
      manifest.json     format version, model id, project, label, categories, training config version,
                        feature set, and the size and SHA-256 of every other file
      model.crfsuite    the CRF (crfsuite's own binary format: loading it runs no code, unlike pickle)

Loading trusts nothing: the format version and feature set must be ones this engine reads, every listed
file must exist with its recorded size and hash, no unlisted file may be present, and the CRF's tags must
match the declared categories. Anything else is an ``ArtifactError`` naming the file and the problem, so a
half-copied or edited model is refused instead of served. Saving writes into a temporary sibling folder
and renames it into place, so a reader never sees a half-written artifact.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import ArtifactError
from .features import FEATURE_SET
from .recognizer import Recognizer

FORMAT_VERSION = "cner-model/1"
MANIFEST_NAME = "manifest.json"
CRF_NAME = "model.crfsuite"
MAX_MANIFEST_BYTES = 1 << 20


@dataclass(frozen=True)
class ModelInfo:
    """What a model is: the manifest fields other than the file list."""

    model_id: str
    project_name: str
    model_label: str
    language: str
    categories: tuple[str, ...]
    training_config_version: str
    feature_set: str = FEATURE_SET


@dataclass(frozen=True)
class Model:
    """A trained model: its description and its CRF file."""

    info: ModelInfo
    crf: bytes

    @cached_property
    def recognizer(self) -> Recognizer:
        return Recognizer(self.crf, self.info.categories)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_json(model: Model) -> dict[str, Any]:
    """The manifest of ``model`` as a JSON object (keys in a fixed order, so files are reproducible)."""
    info = model.info
    return {
        "formatVersion": FORMAT_VERSION,
        "modelId": info.model_id,
        "projectName": info.project_name,
        "modelLabel": info.model_label,
        "language": info.language,
        "categories": list(info.categories),
        "trainingConfigVersion": info.training_config_version,
        "featureSet": info.feature_set,
        "files": {CRF_NAME: {"size": len(model.crf), "sha256": _sha256(model.crf)}},
    }


def save_model(model: Model, directory: str | Path, *, overwrite: bool = False) -> Path:
    """Write ``model`` to ``directory`` atomically; an existing non-empty folder is replaced only if ``overwrite``."""
    target = Path(directory)
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise ArtifactError(f"{target} already holds files; choose an empty folder or allow overwriting")
    with staged_directory(target) as staging:
        (staging / CRF_NAME).write_bytes(model.crf)
        manifest = json.dumps(manifest_json(model), indent=2, ensure_ascii=False) + "\n"
        (staging / MANIFEST_NAME).write_text(manifest, encoding="utf-8")
    return target


@contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """A fresh folder beside ``target`` to fill; it replaces ``target`` when the block succeeds, else vanishes.

    The swap is made of renames only, so ``target`` is always either the old folder or the new one, never
    half of each. The new folder is made world-readable: ``mkdtemp`` creates it 0700, which would hide the
    model from a server running as another, non-root user.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        yield staging
        os.chmod(staging, 0o755)  # noqa: S103 - a model is not a secret, and must be readable by the server user
        if target.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.replace(target, trash / target.name)
            os.replace(staging, target)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load_model(directory: str | Path) -> Model:
    """Load and verify the artifact in ``directory``.

    :raises ArtifactError: naming the file and what is wrong with it.
    """
    root = Path(directory)
    if not root.is_dir():
        raise ArtifactError(f"no model artifact at {root}: the folder does not exist")
    manifest = _read_manifest(root)
    files = manifest["files"]
    present = {p.name for p in root.iterdir()} - {MANIFEST_NAME}
    unexpected = sorted(present - set(files))
    if unexpected:
        raise ArtifactError(
            f"{root} holds files the manifest does not list ({', '.join(unexpected)}); the artifact "
            "was modified after export"
        )
    blobs = {name: _read_verified(root, name, entry) for name, entry in files.items()}
    info = ModelInfo(
        model_id=manifest["modelId"],
        project_name=manifest["projectName"],
        model_label=manifest["modelLabel"],
        language=manifest["language"],
        categories=tuple(manifest["categories"]),
        training_config_version=manifest["trainingConfigVersion"],
        feature_set=manifest["featureSet"],
    )
    model = Model(info, blobs[CRF_NAME])
    _ = model.recognizer  # opens the CRF and checks its tags against the categories
    return model


_FIELDS: dict[str, type] = {
    "formatVersion": str,
    "modelId": str,
    "projectName": str,
    "modelLabel": str,
    "language": str,
    "categories": list,
    "trainingConfigVersion": str,
    "featureSet": str,
    "files": dict,
}


def _read_manifest(root: Path) -> dict[str, Any]:
    path = root / MANIFEST_NAME
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_MANIFEST_BYTES + 1)
    except FileNotFoundError as exc:
        raise ArtifactError(f"{root} is not a model artifact: {MANIFEST_NAME} is missing") from exc
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ArtifactError(f"{path} is larger than {MAX_MANIFEST_BYTES} bytes; it is not a model manifest")
    try:
        manifest = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path} is not valid JSON ({exc}); the manifest is damaged or truncated") from exc
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{path} must hold a JSON object")
    version = manifest.get("formatVersion")
    if version != FORMAT_VERSION:
        raise ArtifactError(f"{path}: unknown artifact format {version!r}; this engine reads {FORMAT_VERSION!r}")
    for name, kind in _FIELDS.items():
        if not isinstance(manifest.get(name), kind):
            raise ArtifactError(f"{path}: field {name!r} is missing or not of the right type")
    if manifest["featureSet"] != FEATURE_SET:
        raise ArtifactError(
            f"{path}: the model was trained with feature set {manifest['featureSet']!r}; this "
            f"engine computes {FEATURE_SET!r} and cannot serve it"
        )
    if not all(isinstance(c, str) for c in manifest["categories"]):
        raise ArtifactError(f"{path}: 'categories' must be a list of strings")
    if CRF_NAME not in manifest["files"]:
        raise ArtifactError(f"{path}: the file list does not include {CRF_NAME}")
    return manifest


def _read_verified(root: Path, name: str, entry: object) -> bytes:
    if (
        not isinstance(entry, dict)
        or not isinstance(entry.get("sha256"), str)
        or not isinstance(entry.get("size"), int)
    ):
        raise ArtifactError(f"{root / MANIFEST_NAME}: the entry of {name!r} needs 'size' and 'sha256'")
    if Path(name).name != name or name in ("", ".", ".."):
        raise ArtifactError(f"{root / MANIFEST_NAME}: file name {name!r} is not a plain file name")
    path = root / name
    if path.is_symlink() or not path.is_file():
        raise ArtifactError(f"{path} is missing or not a regular file")
    data = path.read_bytes()
    if len(data) != entry["size"]:
        raise ArtifactError(
            f"{path} has {len(data)} bytes but the manifest records {entry['size']}: the file is "
            "truncated or was replaced"
        )
    if _sha256(data) != entry["sha256"]:
        raise ArtifactError(f"{path} does not match its SHA-256 in the manifest: the file was tampered with or damaged")
    return data
