"""The conformance report: each clause of the catalog with pass / fail / skip for one target.

A clause *fails* if any test citing it failed, *passes* if at least one passed and none failed, is *skipped*
if every test citing it was skipped (the reasons are listed), *not run* if tests cite it but none was selected,
and has *no test* if no test of the suite cites it. Tests that cite no clause are listed too. Written as
``report.json`` (for machines and CI gates), ``report.md`` and ``report.html`` (for people); the JUnit XML is
pytest's own ``--junitxml``, whose test cases carry a ``clauses`` property.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from conformance.catalog import Clause

Outcome = Literal["passed", "failed", "skipped"]
Status = Literal["passed", "failed", "skipped", "not run", "no test"]
ORDER: tuple[Status, ...] = ("failed", "passed", "skipped", "not run", "no test")


@dataclass
class CaseOutcome:
    """One test's result across its setup, call and teardown phases."""

    nodeid: str
    clauses: tuple[str, ...]
    outcome: Outcome | None = None
    """None until a phase of the test reported (a run that stops early leaves tests without one)."""
    detail: str = ""
    duration: float = 0.0
    observed: str = ""
    """What a passing test measured or saw (its ``observed`` property), shown beside the clause."""

    def merge(self, outcome: Outcome, detail: str, duration: float) -> None:
        """Fold in a phase: a failure anywhere fails the test; a skip replaces a pass."""
        self.duration += duration
        if self.outcome is None or outcome == "failed" or (outcome == "skipped" and self.outcome == "passed"):
            self.outcome = outcome
            self.detail = detail


@dataclass
class ClauseResult:
    id: str
    statement: str
    source: str
    status: Status
    tests: list[CaseOutcome] = field(default_factory=list)


@dataclass
class ParityDifference:
    """A JSON path where the parity target answered otherwise, with both normalised values."""

    scenario: str
    path: str
    target: str
    parity: str


@dataclass
class Report:
    target: str
    kind: str
    limits: str
    clauses: list[ClauseResult]
    unclaused: list[str]
    parity: list[ParityDifference] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {status: sum(result.status == status for result in self.clauses) for status in ORDER}

    @property
    def failed(self) -> list[ClauseResult]:
        return [result for result in self.clauses if result.status == "failed"]


def clause_status(tests: list[CaseOutcome], cited: bool) -> Status:
    if not cited:
        return "no test"
    if not tests:
        return "not run"
    outcomes = {test.outcome for test in tests}
    if "failed" in outcomes:
        return "failed"
    return "passed" if "passed" in outcomes else "skipped"


def build_report(
    catalog: Mapping[str, Clause],
    outcomes: Iterable[CaseOutcome],
    cited: set[str],
    *,
    target: str,
    kind: str,
    limits: str,
    parity: list[ParityDifference] | None = None,
) -> Report:
    """Fold test outcomes into one result per clause of ``catalog``; ``cited`` holds the clause ids any
    collected test cites (selected or not)."""
    ran = [test for test in outcomes if test.outcome is not None]
    results = []
    for clause in catalog.values():
        tests = [test for test in ran if clause.id in test.clauses]
        results.append(
            ClauseResult(clause.id, clause.statement, clause.source, clause_status(tests, clause.id in cited), tests)
        )
    unclaused = sorted(test.nodeid for test in ran if not test.clauses)
    return Report(target, kind, limits, results, unclaused, parity or [])


# Writing ---------------------------------------------------------------------------------------------------------

MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP", "not run": "NOT RUN", "no test": "NO TEST"}


def _why(result: ClauseResult) -> str:
    """The first failure (or skip reason) of a clause, or what its passing tests observed, on one line."""
    for test in result.tests:
        if test.outcome == result.status and test.detail:
            return test.detail.splitlines()[0][:240]
    return "; ".join(test.observed for test in result.tests if test.observed)[:240]


def to_markdown(report: Report) -> str:
    counts = report.counts()
    lines = [
        "# Custom NER container conformance",
        "",
        f"- target: {report.target}",
        f"- kind: {report.kind}; resource limits: {report.limits}",
        "- clauses: " + ", ".join(f"{counts[status]} {status}" for status in ORDER),
        "",
        "| clause | result | tests | note |",
        "|---|---|---|---|",
    ]
    for result in report.clauses:
        note = _why(result).replace("|", "\\|")
        lines.append(f"| `{result.id}` | {MARKS[result.status]} | {len(result.tests)} | {note} |")
    lines += ["", "## Clauses", ""]
    lines += [f"- `{result.id}`: {result.statement} (source: {result.source})" for result in report.clauses]
    if report.unclaused:
        lines += ["", "## Tests citing no clause", "", *(f"- `{nodeid}`" for nodeid in report.unclaused)]
    if report.parity:
        lines += [
            "",
            "## Parity differences",
            "",
            "| scenario | JSON path | target | parity target |",
            "|---|---|---|---|",
        ]
        lines += [f"| {d.scenario} | `{d.path}` | `{d.target}` | `{d.parity}` |" for d in report.parity]
    return "\n".join(lines) + "\n"


def to_html(report: Report) -> str:
    counts = report.counts()
    rows = "\n".join(
        f'<tr class="{result.status.replace(" ", "-")}"><td><code>{html.escape(result.id)}</code></td>'
        f"<td>{MARKS[result.status]}</td><td>{html.escape(result.statement)}<br><small>{html.escape(result.source)}"
        f"</small></td><td>{html.escape(_why(result))}</td></tr>"
        for result in report.clauses
    )
    summary = ", ".join(f"{counts[status]} {status}" for status in ORDER)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Custom NER conformance: {html.escape(report.target)}</title>
<style>body{{font-family:sans-serif;margin:2em}}td{{vertical-align:top;padding:4px 8px;border-bottom:1px solid #ddd}}
.failed td:nth-child(2){{color:#b00;font-weight:bold}}.passed td:nth-child(2){{color:#080}}
.skipped td:nth-child(2),.not-run td:nth-child(2),.no-test td:nth-child(2){{color:#888}}</style></head>
<body><h1>Custom NER container conformance</h1>
<p>Target: {html.escape(report.target)} ({html.escape(report.kind)}; limits: {html.escape(report.limits)})<br>
Clauses: {html.escape(summary)}</p>
<table><tr><th>clause</th><th>result</th><th>statement and source</th><th>note</th></tr>
{rows}
</table>
<p>Tests citing no clause: {html.escape(", ".join(report.unclaused) or "none")}</p>
<p>Parity differences: {len(report.parity)}</p>
</body></html>
"""


def write_report(report: Report, folder: Path) -> list[Path]:
    """Write ``report.json``, ``report.md`` and ``report.html`` into ``folder``; returns their paths."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "report.json": json.dumps(asdict(report) | {"counts": report.counts()}, indent=2, ensure_ascii=False),
        "report.md": to_markdown(report),
        "report.html": to_html(report),
    }
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return [folder / name for name in files]
