"""The collector benchmark's command line: impossible sizes are refused before anything is measured."""

from __future__ import annotations

import pytest

from benchmarks import collector


@pytest.mark.parametrize("argv", [["--jobs", "0"], ["--jobs", "-5"], ["--entities", "-1"], ["--jobs", "many"]])
def test_impossible_sizes_are_a_usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        collector.main(argv)
    assert exit_.value.code == 2
    assert "--jobs" in capsys.readouterr().err


def test_a_small_store_is_measured(capsys: pytest.CaptureFixture[str]) -> None:
    """The figures are printed (their values are the benchmark's to judge, not a unit test's)."""
    collector.main(["--jobs", "200", "--entities", "3"])
    out = capsys.readouterr().out
    assert "tracked objects per finished job" in out
    assert "full collection at 200 stored jobs" in out
    assert "the same with nothing frozen" in out
