"""The pytest plugin (entry point ``pytest11: cner_conformance``): options, the ``clause`` marker, the target
fixtures and the report hooks. The engine lives in importable modules (``targets``, ``client``, ``catalog``,
``report``); this file only wires them into pytest.

Options (group "conformance"; each also read from the environment variable in brackets):

    --target URL            a running container [CNER_TARGET]
    --image IMAGE           start this image with docker-py at --cpus/--memory [CNER_IMAGE]
    --billing URL, --api-key KEY   the Language resource an --image meters against (default: embedded emulator)
    --project, --deployment, --exported-model   what the target serves (default: our sample)
    --openapi FILE          also validate job answers against this official analyzetext.json (repeatable)
    --parity-target URL     answer the parity scenarios on this second container too, and diff
    --conformance-report DIR   write report.json, report.md and report.html there

Fixtures (override by redefining them with the same scope): ``conformance_target`` (session, ``Target``),
``jobs`` (session, ``JobsClient`` of the target), ``conformance_options`` (session, the parsed options).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from conformance.catalog import Clause, load_catalog
from conformance.options import Options
from conformance.report import CaseOutcome, Outcome, ParityDifference, build_report, write_report

if TYPE_CHECKING:
    from conformance.client import JobsClient
    from conformance.targets import Target

SUITE_DIR = Path(__file__).with_name("suite")
MICROSOFT_METER = (
    "needs our container against our emulated meter; Microsoft's container may not be pointed at a fake meter"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "Custom NER container conformance (cner)")
    group.addoption("--target", metavar="URL", help="a running container to judge [CNER_TARGET]")
    group.addoption("--image", metavar="IMAGE", help="an image to start with docker-py and judge [CNER_IMAGE]")
    group.addoption("--billing", metavar="URL", help="Billing endpoint for --image (default: embedded emulator)")
    group.addoption("--api-key", metavar="KEY", help="ApiKey for --image with --billing [CNER_API_KEY]")
    group.addoption("--project", help="projectName the target serves (default: our sample's)")
    group.addoption("--deployment", help="deploymentName requests name (default: production)")
    group.addoption("--exported-model", help="exportedModelName an --image downloads (default: our sample's)")
    group.addoption("--cpus", type=float, default=1.0, help="--image CPU limit (default: %(default)s)")
    group.addoption("--memory", default="4g", help="--image memory limit (default: %(default)s)")
    group.addoption(
        "--openapi",
        type=Path,
        action="append",
        default=[],
        metavar="FILE",
        help="an official analyzetext.json to validate job answers against (repeatable)",
    )
    group.addoption("--parity-target", metavar="URL", help="a second container to diff the parity scenarios with")
    group.addoption(
        "--parity-ignore", action="append", default=[], metavar="PATH", help="a JSON path whose parity diff is known"
    )
    group.addoption("--conformance-report", type=Path, metavar="DIR", help="write report.json/.md/.html here")


def _options(config: pytest.Config) -> Options:
    def get(name: str, env: str | None = None) -> str | None:
        value = config.getoption(name)
        return value if value is not None else (os.environ.get(env) if env else None)

    return Options(
        target=get("target", "CNER_TARGET"),
        image=get("image", "CNER_IMAGE"),
        billing=get("billing"),
        api_key=get("api_key", "CNER_API_KEY"),
        project=config.getoption("project"),
        deployment=config.getoption("deployment"),
        exported_model=config.getoption("exported_model"),
        cpus=config.getoption("cpus"),
        memory=config.getoption("memory"),
        openapi=tuple(config.getoption("openapi")),
        parity_target=get("parity_target"),
        parity_ignore=tuple(config.getoption("parity_ignore")),
        report=config.getoption("conformance_report"),
    )


class Recorder:
    """What the run observed, as hooks of a plugin object registered per run: outcomes by test, the clauses
    collected tests cite, parity differences, the target; at the end, the report."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.outcomes: dict[str, CaseOutcome] = {}
        self.cited: set[str] = set()
        self.parity: list[ParityDifference] = []
        self.target: Target | None = None

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        """Before any deselection: which clauses the suite cites (so "not run" differs from "no test")."""
        ids = clauses_of(item)
        if ids:
            self.cited.update(ids)
            item.user_properties.append(("clauses", " ".join(ids)))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        """After selection (-k, --deselect): the tests that will run, each with the clauses it cites."""
        for item in session.items:
            if item.path.is_relative_to(SUITE_DIR) or clauses_of(item):
                self.outcomes[item.nodeid] = CaseOutcome(item.nodeid, clauses_of(item))

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.nodeid not in self.outcomes:
            return
        detail = ""
        if report.skipped and isinstance(report.longrepr, tuple):
            detail = str(report.longrepr[2])
        elif report.failed:
            text = report.longreprtext.strip()
            detail = text.splitlines()[-1] if text else "failed"
        outcome: Outcome = "failed" if report.failed else "skipped" if report.skipped else "passed"
        case = self.outcomes[report.nodeid]
        case.merge(outcome, detail, report.duration)
        case.observed = "; ".join(str(value) for name, value in report.user_properties if name == "observed")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        folder = _options(self.config).report
        if folder is None or all(case.outcome is None for case in self.outcomes.values()):
            return
        target = self.target
        report = build_report(
            load_catalog(),
            self.outcomes.values(),
            self.cited,
            target=target.label if target else "not started",
            kind=target.kind if target else "none",
            limits=target.limits if target else "none",
            parity=self.parity,
        )
        paths = write_report(report, folder)
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            counts = ", ".join(f"{n} {status}" for status, n in report.counts().items())
            reporter.write_line(f"conformance report ({counts}): {', '.join(map(str, paths))}")


RECORDER = pytest.StashKey[Recorder]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(*ids): the catalog clauses (conformance/catalog.toml) a test checks")
    recorder = Recorder(config)
    config.stash[RECORDER] = recorder
    config.pluginmanager.register(recorder, "cner-conformance-recorder")


def clauses_of(item: pytest.Item) -> tuple[str, ...]:
    return tuple(clause for mark in item.iter_markers("clause") for clause in mark.args)


def recorder(config: pytest.Config) -> Recorder:
    """The run's recorder (tests add parity differences to it)."""
    return config.stash[RECORDER]


# Fixtures ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def conformance_options(pytestconfig: pytest.Config) -> Options:
    return _options(pytestconfig)


@pytest.fixture(scope="session")
def clause_catalog() -> dict[str, Clause]:
    return load_catalog()


@pytest.fixture(scope="session")
def conformance_target(
    conformance_options: Options, tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[Target]:
    """The container under test, started for the session unless ``--target`` names a running one."""
    from conformance.targets import TargetUnavailableError, opened_target  # the product only once a suite runs

    with contextlib.ExitStack() as stack:
        try:
            target = stack.enter_context(opened_target(conformance_options, tmp_path_factory.mktemp))
        except TargetUnavailableError as exc:
            pytest.exit(f"no target to judge: {exc}", returncode=pytest.ExitCode.USAGE_ERROR)
        recorder(pytestconfig).target = target
        yield target


@pytest.fixture(scope="session")
def jobs(conformance_target: Target) -> Iterator[JobsClient]:
    """The prediction API of the target."""
    from conformance.client import JobsClient

    client = JobsClient(conformance_target.url, conformance_target.project, conformance_target.deployment)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _clause_requirements(request: pytest.FixtureRequest, clause_catalog: dict[str, Clause]) -> None:
    """Fail a test citing an unknown clause; skip one whose clauses need what this target lacks."""
    ids = clauses_of(request.node)
    if not ids:
        return
    unknown = [clause for clause in ids if clause not in clause_catalog]
    if unknown:
        pytest.fail(f"cites clauses not in conformance/catalog.toml: {', '.join(unknown)}", pytrace=False)
    needs = {clause_catalog[clause].needs for clause in ids} - {None}
    if not needs:
        return
    target: Target = request.getfixturevalue("conformance_target")
    if "launcher" in needs and target.launch is None:
        pytest.skip("needs a container the suite starts (--image, or the default process mode), not --target")
    if "meter" in needs and (target.cloud is None or not target.ours):
        pytest.skip(MICROSOFT_METER)
