"""The runtime api-versions the container serves (azure-contract.md §1) and the features each adds.

Microsoft's SDK 5.4.0 sends only 2022-05-01 and 2023-04-01; REST callers may send any listed version. The
Custom NER task and result shapes are the same in all of them; later versions add optional inputs.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.web.versions import requested_api_version

RUNTIME_VERSIONS = (
    "2022-05-01",
    "2022-10-01-preview",
    "2023-04-01",
    "2023-04-15-preview",
    "2023-11-15-preview",
    "2024-11-01",
    "2024-11-15-preview",
    "2025-05-15-preview",
    "2025-11-01",
)


@dataclass(frozen=True)
class RuntimeVersion:
    name: str

    @property
    def default_language(self) -> bool:
        """``AnalyzeTextJobsInput.defaultLanguage`` (and ``language: "auto"``) exist from 2023-04-15-preview."""
        return self.name >= "2023-04-15-preview"

    @property
    def cancel_after(self) -> bool:
        """``AnalyzeTextJobsInput.cancelAfter`` (seconds) exists in 2025-11-01."""
        return self.name >= "2025-11-01"


def runtime_version() -> RuntimeVersion:
    """The request's ``api-version``.

    :raises BadRequest: it is missing or not one this container serves.
    """
    return RuntimeVersion(requested_api_version(RUNTIME_VERSIONS, "the Custom NER container"))
