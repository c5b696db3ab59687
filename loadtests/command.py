"""``cner load``: a Locust session against a container with pass/fail thresholds, or a search for its capacity."""

from __future__ import annotations

from pathlib import Path

import click

from fixtures.sample_project import PROJECT_NAME
from loadtests.capacity import Search, find_capacity, write_capacity
from loadtests.session import DEFAULT_TPS, Session, SessionError, check_reachable, parse_duration, run
from loadtests.thresholds import DEFAULT_P95_MS, DEFAULT_RATE_TOLERANCE, Thresholds
from loadtests.workload import (
    DEFAULT_DEPLOYMENT,
    DEFAULT_SIZE,
    KEY_VARIABLE,
    MAX_DOCUMENTS_PER_REQUEST,
    Workload,
    WorkloadError,
    texts,
)

INTERRUPTED = 130


@click.command(context_settings={"ignore_unknown_options": True})
@click.option("--target", envvar="CNER_TARGET", required=True, metavar="URL", help="The container (or CNER_TARGET).")
@click.option("--key", envvar=KEY_VARIABLE, default="", help=f"Ocp-Apim-Subscription-Key to send (or {KEY_VARIABLE}).")
@click.option("--project", default=PROJECT_NAME, show_default=True, help="projectName in each job.")
@click.option("--deployment", default=DEFAULT_DEPLOYMENT, show_default=True, help="deploymentName in each job.")
@click.option(
    "--tps", default=DEFAULT_TPS, show_default=True, type=click.FloatRange(0.1), help="Transactions/s offered."
)
@click.option("--duration", default="60s", show_default=True, help="Run time (90s, 10m, 1h30m); 2 s of it ramp up.")
@click.option("--users", type=click.IntRange(1), help="Simulated users [default: one per 4 tx/s].")
@click.option(
    "--docs",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="A folder of UTF-8 .txt files to send [default: the sample invoices].",
)
@click.option("--docs-per-request", default=1, show_default=True, type=click.IntRange(1, MAX_DOCUMENTS_PER_REQUEST))
@click.option(
    "--doc-size", default=DEFAULT_SIZE, show_default=True, type=click.IntRange(0), help="Characters (0: files as is)."
)
@click.option("--p95", "p95_ms", default=DEFAULT_P95_MS, show_default=True, type=click.FloatRange(0, min_open=True))
@click.option("--rate-tolerance", default=DEFAULT_RATE_TOLERANCE, show_default=True, type=click.FloatRange(0, 1))
@click.option(
    "--out",
    default=Path("reports/load"),
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="CSV files, Locust's HTML report, summary.json (and the capacity chart).",
)
@click.option("--workers", default=0, show_default=True, type=click.IntRange(0, 64), help="Locust workers + master.")
@click.option("--web", is_flag=True, help="Locust's web UI instead of a headless run (judged when Locust quits).")
@click.option("--web-port", default=8089, show_default=True, type=click.IntRange(1, 65535))
@click.option("--find-capacity", is_flag=True, help="Step the rate up until a step fails; chart in capacity.png.")
@click.option("--start", default=50.0, show_default=True, type=click.FloatRange(0.1), help="First step (tx/s).")
@click.option("--step", default=50.0, show_default=True, type=click.FloatRange(0.1), help="Increase per step.")
@click.option("--step-duration", default="20s", show_default=True, help="Run time of each step.")
@click.option("--max-tps", default=2000.0, show_default=True, type=click.FloatRange(0.1), help="Highest step.")
@click.option("--resolution", default=10.0, show_default=True, type=click.FloatRange(0.1), help="Bisect until this.")
@click.argument("locust_args", nargs=-1, type=click.UNPROCESSED)
def load(
    target: str,
    key: str,
    project: str,
    deployment: str,
    tps: float,
    duration: str,
    users: int | None,
    docs: Path | None,
    docs_per_request: int,
    doc_size: int,
    p95_ms: float,
    rate_tolerance: float,
    out: Path,
    workers: int,
    web: bool,
    web_port: int,
    find_capacity: bool,
    start: float,
    step: float,
    step_duration: str,
    max_tps: float,
    resolution: float,
    locust_args: tuple[str, ...],
) -> None:
    """Offer TPS transactions/s (submit a job, poll it until it is done) to a container with Locust and judge the
    window after ramp-up: rate held within --rate-tolerance, p95 below --p95 ms, no failures; exit 1 if not.
    Arguments after -- go to Locust."""
    workload = Workload(
        project=project,
        deployment=deployment,
        folder=docs,
        documents_per_request=docs_per_request,
        size=doc_size or None,
    )
    try:
        if find_capacity and web:
            raise SessionError("--find-capacity runs headless steps one after another; leave out --web")
        if find_capacity and start > max_tps:
            raise SessionError(f"--start {start:g} is above --max-tps {max_tps:g}: no step would run")
        texts(workload)
        check_reachable(target)
        session = Session(
            target=target,
            tps=tps,
            duration_s=parse_duration(step_duration if find_capacity else duration),
            out=out,
            workload=workload,
            thresholds=Thresholds(p95_ms=p95_ms, rate_tolerance=rate_tolerance),
            key=key,
            users=users,
            workers=workers,
            web_port=web_port if web else None,
            extra=locust_args,
        )
    except (WorkloadError, SessionError) as exc:
        raise click.ClickException(str(exc)) from exc
    if find_capacity:
        raise SystemExit(_capacity(session, Search(start, step, max_tps, resolution)))
    outcome = run(session)
    click.echo(f"[load] reports in {out}/: report.html, load_stats.csv, load_stats_history.csv, summary.json", err=True)
    if outcome.interrupted:
        click.echo("[load] interrupted: the verdict covers the time that ran", err=True)
        raise SystemExit(INTERRUPTED)
    raise SystemExit(outcome.exit_code)


def _capacity(base: Session, search: Search) -> int:
    from loadtests.chart import draw_capacity  # matplotlib: only for the chart

    click.echo(
        f"[load] capacity search at {base.target}: from {search.start:g} tx/s by {search.step:g}, "
        f"{base.duration_s:g} s a step, p95 limit {base.thresholds.p95_ms:g} ms",
        err=True,
    )
    found = find_capacity(base, search, say=lambda line: click.echo(f"[load] {line}", err=True))
    base.out.mkdir(parents=True, exist_ok=True)
    write_capacity(found, base.out)
    chart = draw_capacity(found, base.thresholds.p95_ms, base.out / "capacity.png", f"Capacity of {base.target}")
    best = found.best
    if best is None:
        click.echo(f"[load] no step passed; figures in {base.out}/capacity.json, chart {chart}", err=True)
    else:
        s = best.summary
        click.echo(
            f"[load] capacity: {best.offered:g} tx/s offered and held ({s.achieved_tps:.1f} achieved, "
            f"p95 {s.p95_ms:.1f} ms); chart {chart}, figures {base.out}/capacity.json",
            err=True,
        )
        click.echo(f"{best.offered:g}")
    if found.interrupted:
        return INTERRUPTED
    return 0 if best is not None else 1
