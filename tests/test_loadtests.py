"""The load-session logic that does not need Locust running: workload, timetable, tally, thresholds, the
command lines, the reading of answers and the capacity search."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

import pytest

from loadtests.answers import refusal, unsuccessful
from loadtests.capacity import Search, find_capacity
from loadtests.pacing import Timetable
from loadtests.session import Outcome, Session, SessionError, auto_users, locust_arguments, parse_duration
from loadtests.tally import Summary, Tally, percentile, summarise
from loadtests.thresholds import Thresholds, judge, passed
from loadtests.workload import Workload, WorkloadError, request_bodies, texts

# Workload ------------------------------------------------------------------------------------------------------


def test_the_default_workload_is_sample_invoices_of_about_a_thousand_characters() -> None:
    documents = texts(Workload())
    assert len(documents) >= 20
    assert all(900 <= len(d) <= 1000 for d in documents)


def test_documents_are_grouped_per_request_and_reused_in_turn() -> None:
    workload = Workload(documents_per_request=3)
    bodies = [json.loads(b) for b in request_bodies(workload, ["a", "b", "c", "d"])]
    assert len(bodies) == 2
    assert [d["text"] for d in bodies[1]["analysisInput"]["documents"]] == ["d", "a", "b"]
    assert [d["id"] for d in bodies[0]["analysisInput"]["documents"]] == ["1", "2", "3"]
    assert bodies[0]["tasks"][0]["parameters"] == {"projectName": "SampleInvoices", "deploymentName": "production"}


def test_a_folder_of_text_files_is_sent_as_is_or_cut_to_size(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("word " * 300, encoding="utf-8")
    (tmp_path / "b.txt").write_text("short", encoding="utf-8")
    (tmp_path / "notes.md").write_text("ignored", encoding="utf-8")
    assert sorted(map(len, texts(Workload(folder=tmp_path, size=None)))) == [5, 1500]
    assert [len(t) for t in texts(Workload(folder=tmp_path, size=500))] == [499, 499, 499]


@pytest.mark.parametrize(
    ("workload", "message"),
    [
        (Workload(documents_per_request=26), "--docs-per-request must be 1-25"),
        (Workload(documents_per_request=25, size=5001), "--doc-size must be 1-5000 characters with 25 per request"),
        (Workload(folder=Path("/nonexistent-cner")), "no .txt files"),
    ],
)
def test_an_impossible_workload_is_refused_before_the_load_starts(workload: Workload, message: str) -> None:
    with pytest.raises(WorkloadError, match=message):
        texts(workload)


def test_a_file_too_long_for_one_request_names_itself(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("x" * 125_001, encoding="utf-8")
    with pytest.raises(WorkloadError, match=r"big\.txt: 125001 characters"):
        texts(Workload(folder=tmp_path, size=None))


# Pacing -------------------------------------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_timetable_keeps_due_times_fixed_whatever_the_latency() -> None:
    clock = _Clock()
    table = Timetable(4.0, clock=clock, rng=random.Random(1))
    first = table.due
    assert 100.0 <= first < 100.25
    clock.now = first
    assert table.wait() == 0
    assert table.advance() == first
    clock.now = first + 0.6  # the transaction took 600 ms: two later ones are already due
    assert table.wait() == 0
    assert table.advance() == pytest.approx(first + 0.25)
    assert table.advance() == pytest.approx(first + 0.5)
    assert table.wait() == pytest.approx(0.15)


def test_a_timetable_needs_a_positive_rate() -> None:
    with pytest.raises(ValueError, match="positive rate"):
        Timetable(0)


# Tally and thresholds -------------------------------------------------------------------------------------------


def test_percentiles_are_measured_values_by_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.95) == 95.0
    assert percentile(values, 0.5) == 50.0
    assert percentile([7.0], 0.99) == 7.0
    assert percentile([], 0.5) is None


def test_the_window_keeps_exactly_what_started_or_ended_inside_it() -> None:
    worker, master = Tally(), Tally()
    worker.starts += [9.0, 10.5, 11.0]
    worker.completions += [(9.2, 1000.0), (10.6, 10.0), (11.1, 20.0)]  # the first during the ramp-up
    worker.failures += [11.5]
    master.merge(worker.drain())  # a report that straddles the window's opening
    assert worker.drain() == {"starts": [], "completions": [], "failures": []}
    master.open_window(10.0)
    master.close_window(20.0)
    master.merge({"starts": [19.9, 20.5], "completions": [(20.0, 30.0), (20.4, 40.0)], "failures": []})  # last report
    summary = summarise(master, offered_tps=0.5, users=2, now=99.0)
    assert (summary.window_s, summary.started, summary.completed, summary.failures) == (10.0, 3, 3, 1)
    assert summary.achieved_tps == pytest.approx(0.3)
    assert (summary.p50_ms, summary.max_ms) == (20.0, 30.0)


def test_a_window_never_opened_measures_nothing() -> None:
    tally = Tally(starts=[1.0], completions=[(1.1, 5.0)])
    summary = summarise(tally, offered_tps=10, users=1, now=5.0)
    assert (summary.window_s, summary.completed, summary.p95_ms) == (0.0, 0, None)


def _summary(achieved: float, p95: float | None, failures: int = 0) -> Summary:
    return Summary(200.0, 50, 10.0, int(achieved * 10), int(achieved * 10), failures, 5.0, p95, p95, p95)


@pytest.mark.parametrize(
    ("summary", "failed"),
    [
        (_summary(195.0, 99.0), []),
        (_summary(189.0, 20.0), ["rate held"]),
        (_summary(200.0, 100.0), ["p95 latency"]),
        (_summary(200.0, 20.0, failures=1), ["failures"]),
        (_summary(0.0, None), ["rate held", "p95 latency"]),
    ],
)
def test_thresholds_judge_rate_latency_and_failures(summary: Summary, failed: list[str]) -> None:
    checks = judge(summary, Thresholds(p95_ms=100.0, rate_tolerance=0.05))
    assert [c.name for c in checks if not c.passed] == failed
    assert passed(checks) is (not failed)
    assert checks[0].line().startswith("PASS  rate held" if "rate held" not in failed else "FAIL  rate held")


# Answers ---------------------------------------------------------------------------------------------------------


def test_a_refusal_names_the_status_and_azures_error_code() -> None:
    body = json.dumps({"error": {"code": "InvalidArgument", "message": "x"}})
    assert refusal("submit", 400, body) == "submit answered 400 InvalidArgument"
    assert refusal("poll", 502, "<html>") == "poll answered 502"
    assert refusal("submit", 0, None) == "submit: no answer (connection failed)"


@pytest.mark.parametrize(
    ("job", "why"),
    [
        ({"status": "succeeded", "tasks": {"items": [{"results": {"documents": [{}], "errors": []}}]}}, None),
        ({"status": "failed", "errors": [{"code": "InternalServerError"}]}, "job failed InternalServerError"),
        ({"status": "succeeded", "tasks": {"items": []}}, "job succeeded without task results"),
        (
            {"status": "succeeded", "tasks": {"items": [{"results": {"errors": [{"error": {"code": "Invalid"}}]}}]}},
            "document errors Invalid",
        ),
        ({"status": "succeeded", "tasks": "nonsense"}, "job succeeded without task results"),
    ],
)
def test_a_job_counts_only_when_every_document_has_a_result(job: dict[str, object], why: str | None) -> None:
    assert unsuccessful(job) == why


# Sessions ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "seconds"), [("60", 60.0), ("90s", 90.0), ("10m", 600.0), ("1h30m", 5400.0)])
def test_durations_take_locusts_forms(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1x", "2s"])
def test_a_duration_that_cannot_measure_is_refused(text: str) -> None:
    with pytest.raises(SessionError, match="duration"):
        parse_duration(text)


def test_users_default_to_one_per_four_transactions_a_second() -> None:
    assert (auto_users(1), auto_users(200), auto_users(201)) == (1, 50, 51)


def test_distributed_command_lines_share_the_master_port_and_never_carry_the_key(tmp_path: Path) -> None:
    session = Session("http://127.0.0.1:5000/", 200, 60, tmp_path, key="secret-key", workers=2)
    master = locust_arguments(session, "master", 5557)
    worker = locust_arguments(session, "worker", 5557)
    assert master[master.index("--expect-workers") + 1] == "2"
    assert master[master.index("--host") + 1] == "http://127.0.0.1:5000"
    assert master[master.index("--users") + 1] == "50"
    assert "--headless" in master
    assert worker[-4:] == ["--master-host", "127.0.0.1", "--master-port", "5557"]
    assert not any("secret-key" in part for part in master + worker)


def _outcome_at(limit: float) -> Callable[[Session], Outcome]:
    """A fake session runner: the target holds any rate up to ``limit``."""

    def runner(session: Session) -> Outcome:
        held = session.tps <= limit
        summary = Summary(session.tps, 1, 10.0, 10, 10, 0, 5.0, 50.0 if held else 500.0, 60.0, 70.0)
        return Outcome(0 if held else 1, {"summary": summary.to_json(), "passed": held}, interrupted=False)

    return runner


def test_the_capacity_search_steps_up_then_bisects_to_the_resolution(tmp_path: Path) -> None:
    said: list[str] = []
    found = find_capacity(
        Session("http://t", 0, 10, tmp_path), Search(50, 50, 1000, 10), said.append, runner=_outcome_at(183)
    )
    offered = [s.offered for s in found.steps]
    assert offered[:4] == [50, 100, 150, 200]
    assert found.best is not None
    assert 173 < found.best.offered <= 183
    assert len(said) == len(offered)
    assert said[0].startswith("PASS  offered    50.0 tx/s")


def test_the_capacity_search_stops_at_its_ceiling(tmp_path: Path) -> None:
    found = find_capacity(Session("http://t", 0, 10, tmp_path), Search(50, 50, 150, 10), print, _outcome_at(10_000))
    assert [s.offered for s in found.steps] == [50, 100, 150]
    assert found.best is not None
    assert found.best.offered == 150
