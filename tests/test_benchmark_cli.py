"""The job-store benchmarks' command lines: impossible sizes are refused before anything is measured, and a
small run prints its figures (their values are the benchmark's to judge, not a unit test's)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from benchmarks import collector, job_lock

Main = Callable[[list[str]], int]


@pytest.mark.parametrize(
    ("main", "argv", "message"),
    [
        (collector.main, ["--jobs", "0"], "--jobs"),
        (collector.main, ["--jobs", "-5"], "--jobs"),
        (collector.main, ["--entities", "-1"], "--jobs"),
        (collector.main, ["--jobs", "many"], "--jobs"),
        (job_lock.main, ["--seconds", "0"], "--seconds must be above 0"),
        (job_lock.main, ["--documents", "0"], "--seconds must be above 0"),
        (job_lock.main, ["--tasks", "0"], "--seconds must be above 0"),
        (job_lock.main, ["--entities", "-1"], "--seconds must be above 0"),
    ],
)
def test_impossible_sizes_are_a_usage_error(
    main: Main, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("main", "argv", "lines"),
    [
        (
            collector.main,
            ["--jobs", "200", "--entities", "3"],
            ("tracked objects per finished job", "full collection at 200 stored jobs", "the same with nothing frozen"),
        ),
        (
            job_lock.main,
            ["--seconds", "0.5", "--documents", "3", "--entities", "2", "--tasks", "2"],
            ("large jobs, serialized in", "lock wait of a poll while large jobs finish, p99"),
        ),
    ],
)
def test_a_small_run_is_measured(
    main: Main, argv: list[str], lines: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    main(argv)
    out = capsys.readouterr().out
    for line in lines:
        assert line in out
