"""Errors the engine raises, each naming what is wrong and how to fix it.

The HTTP layers (authoring API, container) map these to Azure's error bodies, so every class carries enough
structure (an Azure-style code and a JSON target) to build ``{"error": {"code", "message", "target"}}``
without parsing messages::

    EngineError
    ├── ProjectError      the project file or one of its documents cannot be imported (one or more issues)
    ├── TrainingError     the project holds nothing a model can be trained or evaluated on
    └── ArtifactError     a model artifact is missing, tampered with, truncated or of an unknown format
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ProjectIssue:
    """One problem found in a project file.

    ``code`` is an Azure inner-error code (``InvalidProjectFile``, ``InvalidDocument``, ``InvalidLabel``, ...),
    ``target`` a JSON path into the project file (``assets.documents[3].entities[0].labels[2]``) and
    ``message`` a sentence that names the document or label, says why it is refused and what to change.
    """

    code: str
    target: str
    message: str

    def __str__(self) -> str:
        return f"{self.target or '<project>'}: {self.message}"


class EngineError(Exception):
    """Base class of every error the engine raises on bad input."""


class ProjectError(EngineError):
    """A project file cannot be imported; ``issues`` lists every problem found, not just the first."""

    def __init__(self, issues: list[ProjectIssue]) -> None:
        if not issues:
            raise ValueError("ProjectError needs at least one issue")
        self.issues = tuple(issues)
        shown = "\n".join(f"  - {issue}" for issue in self.issues[:20])
        more = f"\n  ... and {len(self.issues) - 20} more" if len(self.issues) > 20 else ""
        super().__init__(f"the project file has {len(self.issues)} problem(s):\n{shown}{more}")


class TrainingError(EngineError):
    """Training or evaluation cannot run on the given documents (for example, none is labelled)."""


class ArtifactError(EngineError):
    """A model artifact cannot be loaded: missing, tampered with, truncated, unsafe or of an unknown format."""
