"""The conformance plugin itself: catalog rules, report folding, parity normalising, and proof that a
deliberately broken container fails exactly the clauses it breaks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conformance.catalog import CatalogError, load_catalog, parse_catalog
from conformance.parity import Normaliser, differences, ignored
from conformance.report import CaseOutcome, build_report, clause_status, write_report
from conformance.run import pytest_arguments
from emulator.cli import main
from emulator.web.server import BackgroundServer
from fixtures.broken_container import BROKEN_CLAUSES, create_broken_app

from .conftest import PublishedCloud, RunningContainer, container_settings, running_container

NOT_JUDGED_OVER_A_URL = frozenset({"parity/same-answers", "schema/openapi", "capacity/minimum-throughput"})
"""Without --parity-target and --openapi these skip; the 30 s throughput clause is deselected here."""
CLAUSE = '[[clause]]\nid = "{id}"\nstatement = "It MUST work."\nsource = "docs"\n'


def _run_suite(tmp_path: Path, *options: str, tests: str | None = None) -> tuple[int, dict[str, object]]:
    """The suite (or one test file) in a child pytest, as `cner conform` runs it; exit status and report.json."""
    out = tmp_path / "report"
    tmp_path.mkdir(parents=True, exist_ok=True)
    arguments = pytest_arguments(out, options, ["-q", "--deselect", "suite/test_capacity.py"])
    if tests is not None:
        arguments[0] = tests
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *arguments], capture_output=True, text=True, timeout=600, cwd=tmp_path
    )
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    return done.returncode, report | {"output": done.stdout[-3000:]}


# The catalog ---------------------------------------------------------------------------------------------------


def test_the_shipped_catalog_loads_with_unique_ids() -> None:
    catalog = load_catalog()
    assert len(catalog) >= 40
    assert all(clause.statement.rstrip().endswith(".") for clause in catalog.values())


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (CLAUSE.format(id="jobs/a") + CLAUSE.format(id="jobs/a"), "duplicate id"),
        (CLAUSE.format(id="Jobs A"), "an id is area/name"),
        (CLAUSE.format(id="jobs/a") + 'owner = "me"\n', "unknown keys ['owner']"),
        ('[[clause]]\nid = "jobs/a"\nsource = "docs"\n', "statement must be a non-empty string"),
        (CLAUSE.format(id="jobs/a") + 'needs = "gpu"\n', "needs must be one of"),
        ("clause = 1", "expected only [[clause]] tables"),
        ("[[clause]\n", "not TOML"),
    ],
)
def test_a_malformed_catalog_is_refused_naming_the_problem(text: str, problem: str) -> None:
    with pytest.raises(CatalogError, match=problem.replace("[", r"\[").replace("]", r"\]")):
        parse_catalog(text)


# The report ------------------------------------------------------------------------------------------------------


def test_a_clause_fails_if_any_test_fails_and_passes_only_with_a_pass() -> None:
    def outcome(result: str) -> CaseOutcome:
        return CaseOutcome("t", ("a/b",), result)  # type: ignore[arg-type]

    assert clause_status([outcome("passed"), outcome("failed")], cited=True) == "failed"
    assert clause_status([outcome("passed"), outcome("skipped")], cited=True) == "passed"
    assert clause_status([outcome("skipped")], cited=True) == "skipped"
    assert clause_status([], cited=True) == "not run"
    assert clause_status([], cited=False) == "no test"


def test_a_failure_in_teardown_fails_a_passed_test_and_a_skip_does_not_hide_it() -> None:
    test = CaseOutcome("t", ("a/b",))
    assert test.outcome is None
    test.merge("passed", "", 0.1)
    test.merge("failed", "AssertionError: boom", 0.2)
    test.merge("skipped", "later", 0.0)
    assert (test.outcome, test.detail) == ("failed", "AssertionError: boom")


def test_the_report_lists_every_clause_uncited_ones_and_tests_citing_none(tmp_path: Path) -> None:
    catalog = parse_catalog(CLAUSE.format(id="jobs/a") + CLAUSE.format(id="jobs/b") + CLAUSE.format(id="jobs/c"))
    outcomes = [
        CaseOutcome("suite/t.py::x", ("jobs/a",), "failed", "AssertionError: 202 != 400"),
        CaseOutcome("suite/t.py::never-ran", ("jobs/b",)),
        CaseOutcome("y", (), "passed"),
    ]
    report = build_report(catalog, outcomes, {"jobs/a", "jobs/b"}, target="T", kind="url", limits="none")
    assert [(r.id, r.status) for r in report.clauses] == [
        ("jobs/a", "failed"),
        ("jobs/b", "not run"),
        ("jobs/c", "no test"),
    ]
    assert report.unclaused == ["y"]
    paths = write_report(report, tmp_path)
    assert [path.name for path in paths] == ["report.json", "report.md", "report.html"]
    markdown = (tmp_path / "report.md").read_text()
    assert "| `jobs/a` | FAIL | 1 | AssertionError: 202 != 400 |" in markdown
    assert json.loads((tmp_path / "report.json").read_text())["counts"]["no test"] == 1


# Parity ----------------------------------------------------------------------------------------------------------


def test_volatile_values_are_replaced_by_reference() -> None:
    first, second = "8ccf2ffe-e758-4d04-a44a-31512918c7e8", "0d9d82a0-daf6-478d-a729-a1ce66916aa3"
    body = {
        "jobId": first,
        "other": second,
        "again": f"http://127.0.0.1:5000/language/analyze-text/jobs/{first}?api-version=2023-04-01",
        "createdDateTime": "2026-11-28T03:07:19.193278Z",
        "confidenceScore": 0.912345678,
    }
    assert Normaliser("http://127.0.0.1:5000")(body) == {
        "jobId": "<uuid:1>",
        "other": "<uuid:2>",
        "again": "<base-url>/language/analyze-text/jobs/<uuid:1>?api-version=2023-04-01",
        "createdDateTime": "<date-time>",
        "confidenceScore": 0.9123,
    }


def test_differences_name_each_json_pointer_with_both_values() -> None:
    left = {"a": {"b": [1, 2, 3]}, "gone": True, "same": "x", "error": {"message": "one"}}
    right = {"a": {"b": [1, 5]}, "new": None, "same": "x", "error": {"message": "two"}}
    assert differences(left, right) == [
        ("/a/b/1", "2", "5"),
        ("/a/b/length", "3", "2"),
        ("/error/message", '"one"', '"two"'),
        ("/gone", "true", "<absent>"),
        ("/new", "<absent>", "null"),
    ]
    assert ignored("/0/body/error/message", ["*/error/message"])
    assert not ignored("/0/body/error/code", ["*/error/message"])


# Runs of the suite -----------------------------------------------------------------------------------------------


def test_a_broken_container_fails_exactly_the_clauses_it_breaks(container: RunningContainer, tmp_path: Path) -> None:
    with BackgroundServer(create_broken_app(container.url)) as broken:
        status, report = _run_suite(tmp_path, f"--target={broken.url}")
    assert status == 1, report["output"]
    statuses = {clause["id"]: clause["status"] for clause in report["clauses"]}  # type: ignore[attr-defined]
    assert {clause for clause, status in statuses.items() if status == "failed"} == BROKEN_CLAUSES, report["output"]
    assert "no test" not in statuses.values(), "every clause of the catalog has a test"
    catalog = load_catalog()
    judged = {clause for clause in statuses if catalog[clause].needs is None} - NOT_JUDGED_OVER_A_URL
    assert {clause: statuses[clause] for clause in judged} == {
        clause: "failed" if clause in BROKEN_CLAUSES else "passed" for clause in judged
    }


def test_a_test_citing_an_unknown_clause_fails_naming_it(container: RunningContainer, tmp_path: Path) -> None:
    test_file = tmp_path / "test_mine.py"
    test_file.write_text(
        'import pytest\n\n\n@pytest.mark.clause("jobs/no-such-clause")\ndef test_it(jobs):\n    pass\n'
    )
    status, report = _run_suite(tmp_path, f"--target={container.url}", tests=str(test_file))
    assert status == 1
    assert "cites clauses not in conformance/catalog.toml: jobs/no-such-clause" in str(report["output"])


def test_conform_takes_a_url_or_an_image_not_both() -> None:
    result = CliRunner().invoke(main, ["conform", "--target", "http://127.0.0.1:1", "--image", "x"])
    assert result.exit_code == 2
    assert "give --target URL or --image IMAGE, not both" in result.output


def test_parity_mode_finds_nothing_between_two_of_our_containers_and_names_each_difference_of_a_broken_one(
    container: RunningContainer, published_cloud: PublishedCloud, tmp_path: Path
) -> None:
    with running_container(container_settings(published_cloud, tmp_path / "second")) as second:
        status, report = _run_suite(
            tmp_path / "alike", f"--target={container.url}", f"--parity-target={second.url}", "-k", "parity"
        )
    assert status == 0, report["output"]
    assert report["parity"] == []
    with BackgroundServer(create_broken_app(container.url)) as broken:
        status, report = _run_suite(
            tmp_path / "broken", f"--target={container.url}", f"--parity-target={broken.url}", "-k", "parity"
        )
    assert status == 1
    paths = {(difference["scenario"], difference["path"].rsplit("/", 1)[-1]) for difference in report["parity"]}  # type: ignore[attr-defined]
    assert ("entities in each string index type", "offset") in paths, report["parity"]
    assert ("invalid bodies", "status") in paths, report["parity"]


def test_conform_stops_at_once_naming_a_target_that_does_not_answer(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "emulator", "conform", "--target", "http://127.0.0.1:1", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 4, done.stdout[-2000:]
    assert "no target to judge: nothing answers at http://127.0.0.1:1" in done.stdout
    assert not (tmp_path / "report.md").exists(), "no clause was judged: no report claims one"
