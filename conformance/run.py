"""``cner conform``: the suite run as a program, with the JUnit XML and the clause report written to a folder.

The suite's own ``pytest.ini`` is passed explicitly, so the caller's project configuration (its ``addopts``,
its ``conftest.py`` files) never changes how a target is judged, and pytest's cache stays out of the package.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from conformance.plugin import SUITE_DIR

INI_FILE = SUITE_DIR.parent / "pytest.ini"


def pytest_arguments(out: Path, options: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    """The pytest command line of a run: the suite, its ini file, the reports under ``out``, then ``options``
    (``--target URL``, ``--image IMAGE``, ...) and any ``extra`` pytest arguments (``-k``, ``-x``, ...)."""
    return [
        str(SUITE_DIR),
        "-c",
        str(INI_FILE),
        "--rootdir",
        str(SUITE_DIR.parent),
        "-p",
        "no:cacheprovider",
        f"--junitxml={out / 'junit.xml'}",
        f"--conformance-report={out}",
        *options,
        *extra,
    ]


def run_suite(out: Path, options: Sequence[str], extra: Sequence[str] = ()) -> int:
    """Run the suite in this process; pytest's exit status (0 when every selected test passed or skipped)."""
    return int(pytest.main(pytest_arguments(out, options, extra)))
