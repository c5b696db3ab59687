"""The Custom NER transaction under load: submit an analyze-text job, poll it until it is done.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:5000 --headless -u 50 -r 50 -t 60s --tps 200

(``cner load`` runs exactly this, with thresholds, reports and distributed workers.) Each user keeps its share
of ``--tps`` on a timetable (``loadtests.pacing``) and times each transaction from when it was due to when its
job had succeeded: the unit a client experiences, recorded as request type ``TRANSACTION`` beside Locust's own
``submit`` and ``poll`` entries. At the end the figures of the measuring window (from the last user spawned to
the stop) are judged against ``--p95-limit``, ``--rate-tolerance`` and "no failures"; the verdict is the exit
code and, with ``--summary-file``, a JSON file.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import random
import time
from argparse import Namespace
from pathlib import Path
from typing import Any, NoReturn

import gevent
from locust import FastHttpUser, events, task
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import WorkerRunner

from fixtures.sample_project import PROJECT_NAME
from loadtests.answers import TERMINAL, job_of, refusal, unsuccessful
from loadtests.pacing import Timetable
from loadtests.session import DEFAULT_TPS
from loadtests.tally import Tally, summarise
from loadtests.thresholds import DEFAULT_P95_MS, DEFAULT_RATE_TOLERANCE, Thresholds, judge, passed
from loadtests.workload import (
    DEFAULT_DEPLOYMENT,
    DEFAULT_SIZE,
    KEY_VARIABLE,
    Workload,
    WorkloadError,
    request_bodies,
    texts,
)

TRANSACTION = "TRANSACTION"
"""Request type of the end-to-end entry in Locust's statistics, CSV files and HTML report."""
REPORT_KEY = "cner_tally"
TALLY = Tally()
"""This process's tally: the whole run's in a local run, the master's merge of the workers' reports in a
distributed one, and on a worker what it has not reported yet."""


class TransactionError(Exception):
    """A transaction that did not end in a succeeded job; the message names what went wrong, never an id, so
    Locust groups the same failure into one row."""


def _options(parser: LocustArgumentParser) -> None:
    parser.add_argument(
        "--tps", type=float, default=DEFAULT_TPS, include_in_web_ui=True, help="Transactions/s, all users."
    )
    parser.add_argument("--project", default=PROJECT_NAME, include_in_web_ui=True, help="projectName in each job.")
    parser.add_argument("--deployment", default=DEFAULT_DEPLOYMENT, include_in_web_ui=True, help="deploymentName.")
    parser.add_argument(
        "--key",
        default="",
        env_var=KEY_VARIABLE,
        is_secret=True,
        help=f"Ocp-Apim-Subscription-Key header, or {KEY_VARIABLE} (a container needs none).",
    )
    parser.add_argument("--docs", default="", help="A folder of .txt files to send [default: the sample invoices].")
    parser.add_argument("--docs-per-request", type=int, default=1, help="Documents in each job.")
    parser.add_argument(
        "--doc-size",
        type=int,
        default=DEFAULT_SIZE,
        help="Characters per document, cut at words (0: files as they are).",
    )
    parser.add_argument("--p95-limit", type=float, default=DEFAULT_P95_MS, help="Fail if p95 (ms) is not below this.")
    parser.add_argument("--rate-tolerance", type=float, default=DEFAULT_RATE_TOLERANCE, help="Allowed rate shortfall.")
    parser.add_argument("--poll-interval", type=float, default=0.01, help="Seconds between polls of a running job.")
    parser.add_argument("--transaction-timeout", type=float, default=30.0, help="Seconds before a job counts as lost.")
    parser.add_argument("--summary-file", default="", help="Write the window's figures and verdict here (JSON).")


def workload_of(options: Namespace) -> Workload:
    return Workload(
        project=options.project,
        deployment=options.deployment,
        folder=Path(options.docs) if options.docs else None,
        documents_per_request=options.docs_per_request,
        size=options.doc_size or None,
    )


@functools.cache
def _bodies(workload: Workload) -> list[bytes]:
    """Built once per process, on the first user's start: a worker learns the options at its first spawn."""
    return request_bodies(workload, texts(workload))


def option_problem(options: Namespace) -> str | None:
    """What is wrong with this file's options for any transaction to run, or None."""
    ranges = (
        ("--tps", options.tps, options.tps > 0, "above 0"),
        ("--p95-limit", options.p95_limit, options.p95_limit > 0, "above 0"),
        ("--rate-tolerance", options.rate_tolerance, 0 <= options.rate_tolerance <= 1, "from 0 to 1"),
        ("--poll-interval", options.poll_interval, options.poll_interval >= 0, "0 or more"),
        ("--transaction-timeout", options.transaction_timeout, options.transaction_timeout > 0, "above 0"),
    )
    for name, value, good, wanted in ranges:
        if not good:
            return f"{name} {value:g}: give a number {wanted}"
    try:
        _bodies(workload_of(options))
    except WorkloadError as exc:
        return str(exc)
    return None


def _on_init(environment: Environment, **_: Any) -> None:
    """Refuse, in one line and with exit status 2, options no transaction could run with, before a user starts.
    A master or a local run checks them here; a worker gets them from its master, which has checked them."""
    if isinstance(environment.runner, WorkerRunner) or environment.parsed_options is None:
        return
    problem = option_problem(options_of(environment))
    if problem is not None:
        logging.getLogger(__name__).error("cannot run: %s", problem)
        raise SystemExit(2)


def options_of(environment: Environment) -> Namespace:
    """Locust's parsed command line, with this file's options (always there once Locust has started)."""
    options = environment.parsed_options
    assert isinstance(options, Namespace)
    return options


def total_users(environment: Environment) -> int:
    """Users of the whole run: a worker runs only its share, so the master passes the total along with the custom
    options it sends in every spawn message (``cner_users``)."""
    options = options_of(environment)
    if isinstance(environment.runner, WorkerRunner):
        return max(1, int(getattr(options, "cner_users", 1)))
    assert environment.runner is not None
    return max(1, environment.runner.target_user_count)


class AnalyzeTextUser(FastHttpUser):
    """A client of the container's ``/language/analyze-text/jobs`` API at ``--tps`` / users transactions/s."""

    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        options = options_of(self.environment)
        self.workload = workload_of(options)
        bodies = _bodies(self.workload)
        self.bodies = itertools.islice(itertools.cycle(bodies), random.randrange(len(bodies)), None)
        self.headers = {"Content-Type": "application/json"}
        if options.key:
            self.headers["Ocp-Apim-Subscription-Key"] = options.key
        self.poll_interval = options.poll_interval
        self.timeout = options.transaction_timeout
        self.timetable = Timetable(options.tps / total_users(self.environment))
        gevent.sleep(self.timetable.wait())

    def wait_time(self) -> float:
        return self.timetable.wait()

    @task
    def transaction(self) -> None:
        due = self.timetable.advance()
        TALLY.starts.append(time.time())
        exception: TransactionError | None = None
        try:
            self._submit_and_poll(next(self.bodies), due + self.timeout)
        except TransactionError as failed:
            exception = failed
            TALLY.failures.append(time.time())
        elapsed_ms = (time.perf_counter() - due) * 1000
        if exception is None:
            TALLY.completions.append((time.time(), elapsed_ms))
        self.environment.events.request.fire(
            request_type=TRANSACTION,
            name="submit+poll",
            response_time=elapsed_ms,
            response_length=0,
            exception=exception,
            context={},
        )

    def _submit_and_poll(self, body: bytes, deadline: float) -> None:
        # geventhttpclient sends bytes as they are; Locust's annotation names only str and dict
        submit = self.client.post(
            self.workload.jobs_path,
            data=body,  # type: ignore[arg-type]
            headers=self.headers,
            name="submit",
            catch_response=True,
        )
        with submit as answer:
            location = answer.headers.get("Operation-Location") if answer.status_code == 202 else None
            if location is None:
                _fail(answer, refusal("submit", answer.status_code, answer.text))
        while True:
            with self.client.get(location, headers=self.headers, name="poll", catch_response=True) as answer:
                job = job_of(answer.text) if answer.status_code == 200 else None
                status = job.get("status") if job is not None else None
                if job is None or not isinstance(status, str):
                    _fail(answer, refusal("poll", answer.status_code, answer.text))
                elif status in TERMINAL:
                    if (why := unsuccessful(job)) is not None:
                        _fail(answer, why)
                    return
                elif time.perf_counter() > deadline:
                    _fail(answer, f"job still {status} after --transaction-timeout {self.timeout:g} s")
            gevent.sleep(self.poll_interval)


def _fail(answer: Any, why: str) -> NoReturn:
    """Mark Locust's entry of this request failed and end the transaction with the same reason."""
    answer.failure(why)
    raise TransactionError(why)


def _on_test_start(environment: Environment, **_: Any) -> None:
    if environment.runner is not None and not isinstance(environment.runner, WorkerRunner):
        options_of(environment).cner_users = environment.runner.target_user_count


def _on_spawned(user_count: int, **_: Any) -> None:
    TALLY.open_window(time.time())


def _on_test_stop(environment: Environment, **_: Any) -> None:
    TALLY.close_window(time.time())


def _on_report_to_master(client_id: str, data: dict[str, Any], **_: Any) -> None:
    data[REPORT_KEY] = TALLY.drain()


def _on_worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    TALLY.merge(data.get(REPORT_KEY) or {})


def _on_quitting(environment: Environment, **_: Any) -> None:
    """Judge the window, print the verdict, write ``--summary-file``, and set the exit code from it."""
    runner = environment.runner
    if runner is None or isinstance(runner, WorkerRunner):
        return
    options = options_of(environment)
    summary = summarise(TALLY, options.tps, runner.target_user_count, time.time())
    checks = judge(summary, Thresholds(p95_ms=options.p95_limit, rate_tolerance=options.rate_tolerance))
    print(
        f"\nwindow {summary.window_s:.1f} s: offered {summary.offered_tps:g} tx/s, "
        f"started {summary.started_tps:.1f}/s, "
        f"completed {summary.achieved_tps:.1f}/s ({summary.completed} transactions, {summary.failures} failed); "
        f"latency p50 {_ms(summary.p50_ms)} p95 {_ms(summary.p95_ms)} p99 {_ms(summary.p99_ms)} "
        f"max {_ms(summary.max_ms)} (exact, from each transaction's due time)"
    )
    for check in checks:
        print(check.line())
    if options.summary_file:
        verdict = {"summary": summary.to_json(), "checks": [vars(c) for c in checks], "passed": passed(checks)}
        Path(options.summary_file).write_text(json.dumps(verdict, indent=2) + "\n", encoding="utf-8")
    environment.process_exit_code = 0 if passed(checks) else 1


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


events.init_command_line_parser.add_listener(_options)
events.init.add_listener(_on_init)
events.test_start.add_listener(_on_test_start)
events.spawning_complete.add_listener(_on_spawned)
events.test_stop.add_listener(_on_test_stop)
events.report_to_master.add_listener(_on_report_to_master)
events.worker_report.add_listener(_on_worker_report)
events.quitting.add_listener(_on_quitting)
