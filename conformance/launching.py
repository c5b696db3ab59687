"""What clauses that start their own containers share (gating, billing): altered settings, a container
stopped whatever the outcome, and what the test saw kept with its result."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from conformance.targets import Launched, Target


def changed(settings: Sequence[str], key: str, value: str | None) -> list[str]:
    """``settings`` (``Key=value``) with ``key`` set to ``value``, added when absent, removed when ``value`` is
    None. Keys compare case-insensitively, as the container reads them (ASP.NET Core configuration)."""
    kept = [setting for setting in settings if setting.partition("=")[0].lower() != key.lower()]
    return kept if value is None else [*kept, f"{key}={value}"]


@contextlib.contextmanager
def launched(target: Target, settings: Sequence[str], workdir: Path) -> Iterator[Launched]:
    """A fresh container of the target's kind with ``settings`` and its own model folder under ``workdir``,
    stopped (a Docker one also removed) whatever the test's outcome."""
    assert target.launch is not None, "the plugin skips launcher and meter clauses for a --target URL"
    container = target.launch(settings, workdir)
    try:
        yield container
    finally:
        container.stop()


def observe(request: pytest.FixtureRequest, what: str) -> None:
    """Keep what the test saw with its outcome (JUnit XML property ``observed``), as the plugin keeps a test's
    clauses: straight in ``user_properties``, which ``record_property`` would warn about under xunit2."""
    request.node.user_properties.append(("observed", what))
