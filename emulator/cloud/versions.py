"""The authoring api-versions the emulator serves, and what each one adds (azure-contract.md §1, §7).

Versions are ordered by release; a feature is "in" a version when that version is at least the one that
introduced it. A response is shaped by the request's version, so a client pinned to 2022-05-01 sees the
2022-05-01 fields and nothing newer, as it would on Azure.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.web.versions import requested_api_version

AUTHORING_VERSIONS = (
    "2022-05-01",
    "2022-10-01-preview",
    "2023-04-01",
    "2023-04-15-preview",
    "2023-11-15-preview",
    "2024-11-15-preview",
    "2025-05-15-preview",
)


@dataclass(frozen=True, order=True)
class ApiVersion:
    rank: int
    name: str

    def at_least(self, name: str) -> bool:
        return self.rank >= AUTHORING_VERSIONS.index(name)

    @property
    def nullable_next_link(self) -> bool:
        """Hand-written 2022 specs require ``nextLink`` (null on the last page); TypeSpec ones omit it."""
        return not self.at_least("2023-04-01")

    @property
    def has_snapshot(self) -> bool:
        """``ProjectTrainedModel.hasSnapshot`` is required from 2023-04-01."""
        return self.at_least("2023-04-01")

    @property
    def assigned_resources(self) -> bool:
        """``ProjectDeployment.assignedResources`` is required from 2023-04-15-preview."""
        return self.at_least("2023-04-15-preview")

    @property
    def exported_models(self) -> bool:
        """Model export for the container exists only in previews from 2023-04-15-preview."""
        return self.at_least("2023-04-15-preview")

    @property
    def export_of_trained_model(self) -> bool:
        """``:export?trainedModelLabel=`` arrived with 2022-10-01-preview."""
        return self.at_least("2022-10-01-preview")


def requested_version() -> ApiVersion:
    """The request's ``api-version``.

    :raises BadRequest: missing or not an authoring version this emulator serves.
    """
    name = requested_api_version(AUTHORING_VERSIONS, "text authoring")
    return ApiVersion(AUTHORING_VERSIONS.index(name), name)
