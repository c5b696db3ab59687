"""Where the emulated resource keeps its files under the data folder, in one place::

    DATA_DIR/storage/<container>/<location>              uploaded documents (the blob containers)
    DATA_DIR/projects/<p>/data/                          the last successful import: project.json, documents/
    DATA_DIR/projects/<p>/models/<label>/                artifact/, evaluation-*.json, project.json (trained on)
    DATA_DIR/projects/<p>/exported-models/<name>/        the files an exported model's manifest points at
    DATA_DIR/projects/<p>/exports/<jobId>.json           :export results
    DATA_DIR/projects/<p>/work/<jobId>/                  a training job's private copy of the data

Callers pass only names already checked by ``ner.naming`` (projects, labels, containers, locations) or ids
the emulator made itself, so every path stays inside the data folder.
"""

from __future__ import annotations

from pathlib import Path

PROJECT_FILE = "project.json"
DOCUMENTS = "documents"
ARTIFACT = "artifact"
SUMMARY = "evaluation-summary.json"
RESULTS = "evaluation-results.json"


class Layout:
    """The paths of one data folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def container(self, container: str) -> Path:
        return self.root / "storage" / container

    def project(self, project: str) -> Path:
        return self.root / "projects" / project

    def data(self, project: str) -> Path:
        return self.project(project) / "data"

    def model(self, project: str, label: str) -> Path:
        return self.project(project) / "models" / label

    def exported_model(self, project: str, name: str) -> Path:
        return self.project(project) / "exported-models" / name

    def export_result(self, project: str, job_id: str) -> Path:
        return self.project(project) / "exports" / f"{job_id}.json"

    def work(self, project: str, job_id: str) -> Path:
        return self.project(project) / "work" / job_id
