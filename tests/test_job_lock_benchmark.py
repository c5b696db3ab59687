"""The job-lock benchmark's command line: impossible sizes are refused before anything is measured."""

from __future__ import annotations

import pytest

from benchmarks import job_lock


@pytest.mark.parametrize("argv", [["--seconds", "0"], ["--documents", "0"], ["--tasks", "0"], ["--entities", "-1"]])
def test_impossible_sizes_are_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        job_lock.main(argv)
    assert exit_.value.code == 2
    assert "--seconds must be above 0" in capsys.readouterr().err


def test_a_short_run_is_measured(capsys: pytest.CaptureFixture[str]) -> None:
    """The figures are printed (their values are the benchmark's to judge, not a unit test's)."""
    job_lock.main(["--seconds", "0.5", "--documents", "3", "--entities", "2", "--tasks", "2"])
    out = capsys.readouterr().out
    assert "large jobs, serialized in" in out
    assert "lock wait of a poll while large jobs finish, p99" in out
