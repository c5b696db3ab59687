"""The running container: its settings, billing gate, meter, model and job engine, and the start-up sequence.

Start-up runs off the server's thread, so ``/ready`` and ``/status`` answer (503) while it runs:

1. the key check with the Billing endpoint (which also sends usage a previous run counted but did not
   deliver). ``Invalid``, ``Mismatch`` and ``ContainerUseUnauthorized`` are fatal, as is a Billing URL
   that does not serve the metering API (404); an endpoint that does not answer follows the outage rules
   (the gate refuses queries, the meter keeps trying, and stops the container serving after the attempts);
2. the model: loaded from the model folder if a verified artifact is there, else downloaded (model_source);
3. the meter's reporting loop.

A fatal problem sets ``failure`` (one line naming the setting and the fix) and ``fatal``: the process exits
non-zero. Requests reach the runtime through ``current()``.
"""

from __future__ import annotations

import importlib.metadata
import logging
import socket
import sqlite3
import threading
from collections.abc import Callable
from typing import cast

from flask import current_app

from emulator.ner import Model
from emulator.web.errors import ApiError, ServiceUnavailable

from .analyze.jobs import JobEngine
from .analyze.predict import TaskOutcome, run_task
from .analyze.request import JobInput
from .analyze.results import kept
from .billing_client import REFUSED, BillingClient, ContainerIdentity
from .gate import BillingGate
from .metering import Meter
from .model_source import ModelError, provide_model
from .outbound import Outbound
from .settings import Settings, SettingsError
from .usage_spool import UsageSpool

log = logging.getLogger("cner.container")

EXTENSION = "cner_container"
SPOOL_FILE = "metering/usage.sqlite3"
MODEL_NOT_LOADED_RETRY = 1.0


def package_version() -> str:
    try:
        return importlib.metadata.version("cner-emulator")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0"


class ContainerRuntime:
    def __init__(
        self,
        settings: Settings,
        *,
        container_id: str | None = None,
        on_serving: Callable[[], None] | None = None,
    ) -> None:
        """``on_serving`` runs on the start-up thread once the model is loaded, before the first query is served."""
        self.settings = settings
        self._on_serving = on_serving
        self.version = package_version()
        outbound = Outbound(settings.billing, settings.api_key, proxy=settings.http_proxy)
        self.outbound = outbound
        identity = ContainerIdentity(
            container_version=self.version,
            container_id=container_id or socket.gethostname(),
            project_name=settings.project_name,
            exported_model_name=settings.exported_model_name,
        )
        self.billing = BillingClient(outbound, identity)
        self.gate = BillingGate(settings.max_failed_attempts, settings.report_interval)
        spool_path = settings.output_path / SPOOL_FILE
        try:
            self.spool = UsageSpool(spool_path)
        except OSError as exc:
            raise SettingsError(
                f"Mounts:Output={settings.output_path} is not writable ({exc.strerror or exc}): mount a writable "
                "folder there, where the container keeps its unsent usage records"
            ) from exc
        except sqlite3.DatabaseError as exc:
            raise SettingsError(
                f"{spool_path} is not a usage spool ({exc}): it is damaged or not ours; move it away (its unsent "
                "usage is lost) or mount another Mounts:Output folder"
            ) from exc
        self.meter = Meter(self.billing, self.spool, self.gate, settings.report_interval)
        self.model: Model | None = None
        self.failure: str | None = None
        self.fatal = threading.Event()
        self.jobs = JobEngine(
            self._execute,
            kept,
            workers=settings.workers,
            max_queued=settings.max_queued,
            max_stored=settings.max_stored,
        )
        self._starter = threading.Thread(target=self._start, name="container-start", daemon=True)

    # -- start-up ------------------------------------------------------------------------------------------

    def start(self) -> None:
        self._starter.start()

    def _fail(self, message: str) -> None:
        log.error("%s", message)
        self.failure = message
        self.fatal.set()

    def _start(self) -> None:
        try:
            self._start_up()
        except Exception as exc:  # anything unforeseen still ends start-up with a reason, never a silent hang
            log.exception("start-up failed")
            self._fail(f"start-up failed unexpectedly: {exc}")

    def _start_up(self) -> None:
        answer = self.meter.tick()
        if answer.status in REFUSED:
            self._fail(
                f"ApiKey is refused by the Billing endpoint {self.settings.billing} ({answer.status}: "
                f"{answer.message}): set ApiKey= to a key of that Custom NER Language resource"
            )
            return
        if answer.http_status == 404:
            self._fail(
                f"Billing={self.settings.billing} does not serve the metering API (404 on /metering/v1/...): "
                "set Billing= to the endpoint of the Language resource"
            )
            return
        log.info("billing: %s (%s)", answer.status, answer.message)
        try:
            model = provide_model(
                self.settings.model_path,
                self.settings.project_name,
                self.settings.exported_model_name,
                self.outbound,
                log=log,
            )
        except ModelError as exc:
            self._fail(str(exc))
            return
        info = model.info
        log.info(
            "serving model %s of project %s (%d categories); exported model %s; %d prediction workers",
            info.model_label,
            info.project_name,
            len(info.categories),
            self.settings.exported_model_name,
            self.settings.workers,
        )
        if self._on_serving is not None:
            self._on_serving()
        self.model = model
        self.meter.start()

    # -- serving -------------------------------------------------------------------------------------------

    def refusal(self) -> ApiError | None:
        """Why a query cannot be served now, or None."""
        if self.model is None:
            return ServiceUnavailable(
                self.failure
                or "The model is not loaded yet: the container is starting (GET /ready answers 200 when it can serve)",
                code="ServiceUnavailable",
                retry_after=MODEL_NOT_LOADED_RETRY,
            )
        return self.gate.refusal()

    def require_serving(self) -> None:
        refusal = self.refusal()
        if refusal is not None:
            raise refusal

    def _execute(
        self, job: JobInput, cancelled: Callable[[], bool], task_done: Callable[[int, TaskOutcome], None]
    ) -> None:
        """Run every task of ``job``; each task's usage is on the spool before its results become visible."""
        model = self.model
        assert model is not None  # jobs are accepted only once the model is loaded
        language = job.default_language or model.info.language
        charged = False
        for index, task in enumerate(job.tasks):
            outcome = run_task(model, task, job.documents, language, cancelled)
            if outcome.text_records:
                self.meter.count(outcome.text_records, 0 if charged else 1)
                charged = True
            task_done(index, outcome)

    def close(self) -> None:
        """Finish queued jobs, report what was counted, release the spool."""
        self.jobs.close()
        self.meter.close(flush=self.model is not None)
        self.spool.close()


def current() -> ContainerRuntime:
    return cast(ContainerRuntime, current_app.extensions[EXTENSION])
