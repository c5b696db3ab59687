"""The model the container serves: the exported model in its model folder, downloaded when missing or damaged.

Microsoft's image is started with ``projectName=`` and ``exportedModelName=`` and a folder mounted at
``/modelPath``; it pulls the exported model from the Language resource named by ``Billing`` into that folder
and serves from there (azure-contract.md §3.1). We do the same through the exported model's manifest
(``GET .../exported-models/{name}/manifest`` → ``{"modelFiles": [{"name", "contentUri"}]}``, §7)::

    model_path / projectName / exportedModelName /   manifest.json, model.crfsuite, ...

A folder that already holds a verified artifact of the right project is served as it is, so a restart needs
no network for the model. Anything else is downloaded again into a staged folder beside it, verified with
``load_model`` and only then renamed over the old one: a reader never sees a half-written or corrupt model,
and a failed download leaves the folder exactly as it was.

What retrying can fix (no answer, 408/429/5xx, bytes that fail verification) is retried with exponential
backoff; what it cannot (a refused key, an unknown project or exported model, a manifest that is not one,
an unwritable folder) is a ``ModelError`` at once, whose one line says which setting to check.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path

from emulator.ner import ArtifactError, Model, load_model
from emulator.ner.artifact import staged_directory

from .outbound import Answer, Outbound, UnreachableError

MANIFEST_API_VERSION = "2025-05-15-preview"
"""The newest text-authoring version; the manifest operation exists from 2023-04-15-preview on."""
EXPORT_API_VERSION = "2023-04-15-preview"
"""The version Microsoft's container documentation exports models with (quoted in the 404 advice)."""
MAX_FILE_BYTES = 512 * 1024 * 1024
"""A model file larger than this is refused: our CRF files are a few MB, so more is not a model of ours."""
MAX_BACKOFF = 30.0
MAX_RETRY_AFTER = 300.0
"""The longest ``Retry-After`` obeyed: a startup must not hang for hours on one header."""


class ModelError(Exception):
    """The model cannot be provided; the one-line message names what is wrong and what to do."""


class _RetryableError(Exception):
    """One failed attempt that a later one may get past; ``retry_after`` is the wait the server asked for."""

    def __init__(self, problem: str, retry_after: float | None = None) -> None:
        super().__init__(problem)
        self.retry_after = retry_after


def model_folder(model_path: Path, project: str, exported_model: str) -> Path:
    """Where the exported model ``exported_model`` of ``project`` lives under the mounted ``model_path``.

    One folder per project and exported model, so a mount shared by containers serving different models
    (or switched to another model) never mixes their files.
    """
    return model_path / project / exported_model


def provide_model(
    model_path: Path,
    project: str,
    exported_model: str,
    outbound: Outbound,
    *,
    log: logging.Logger,
    attempts: int = 5,
    backoff: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Model:
    """The verified model of ``project`` from its model folder, downloaded first if it is absent or unusable.

    Attempt ``n`` that fails for a reason worth retrying is followed by a wait of ``backoff * 2**(n-1)``
    seconds (at most ``MAX_BACKOFF``), or the server's ``Retry-After`` when that is longer.

    :raises ModelError: the download was refused, the folder cannot be written, the model belongs to another
        project, or ``attempts`` attempts failed (the message names the last problem).
    """
    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    folder = model_folder(model_path, project, exported_model)
    local = _local_model(folder, project, log)
    if local is not None:
        return local
    _check_writable(model_path, folder.parent)
    _remove_stale_staging(folder, log)
    download = _Download(outbound, project, exported_model, folder, log)
    problem = ""
    for attempt in range(1, attempts + 1):
        try:
            return download.attempt()
        except _RetryableError as exc:
            problem = str(exc)
            if attempt == attempts:
                break
            delay = min(backoff * 2 ** (attempt - 1), MAX_BACKOFF)
            if exc.retry_after is not None:
                delay = max(delay, min(exc.retry_after, MAX_RETRY_AFTER))
            log.warning(
                "model download attempt %d of %d failed: %s; retrying in %.1f s", attempt, attempts, problem, delay
            )
            sleep(delay)
    raise ModelError(
        f"could not download exported model {exported_model!r} of project {project!r} from {outbound.endpoint} "
        f"after {attempts} attempts; last problem: {problem}"
    )


def _local_model(folder: Path, project: str, log: logging.Logger) -> Model | None:
    """The model already in ``folder`` if it verifies and is ``project``'s, else None (and why, in the log)."""
    if not folder.exists():
        log.info("no model in %s yet: downloading it", folder)
        return None
    try:
        model = load_model(folder)
    except (ArtifactError, OSError) as exc:
        log.warning("the model in %s cannot be used (%s): downloading it again", folder, exc)
        return None
    if model.info.project_name != project:
        log.warning(
            "the model in %s belongs to project %r, not %r: downloading it again",
            folder,
            model.info.project_name,
            project,
        )
        return None
    log.info("model %s of project %r loaded from %s", model.info.model_id, project, folder)
    return model


STALE_STAGING = 3600.0
"""Seconds after which a staging folder beside the model is a leftover of a stopped download, not another
container's download in progress on a shared mount (its folder's time changes with every file it writes)."""


def _remove_stale_staging(folder: Path, log: logging.Logger) -> None:
    """Remove what downloads stopped mid-way (a SIGTERM or ``kill -9`` during the download) left beside
    ``folder``, so restarts do not pile up partial models in the mount."""
    for leftover in folder.parent.glob(f".{folder.name}.*"):
        try:
            if leftover.is_dir() and time.time() - leftover.stat().st_mtime > STALE_STAGING:
                shutil.rmtree(leftover)
                log.info("removed %s, left by a download that did not finish", leftover)
        except OSError as exc:
            log.warning("could not remove %s (%s)", leftover, exc)


def _check_writable(model_path: Path, parent: Path) -> None:
    """Fail before any request when the download could not be stored: a full download lost at the rename
    would cost time and the message would name a staging folder instead of the mount to fix."""
    try:
        parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=".write-check.", dir=parent))
    except OSError as exc:
        raise ModelError(
            f"the model folder {model_path} cannot be written ({exc.strerror or exc}): mount a writable folder "
            f"there (docker run -v <local folder>:{model_path})"
        ) from exc


class _Download:
    """One exported model fetched from the Billing endpoint into ``folder``, an attempt at a time."""

    def __init__(
        self, outbound: Outbound, project: str, exported_model: str, folder: Path, log: logging.Logger
    ) -> None:
        self._outbound = outbound
        self._project = project
        self._exported_model = exported_model
        self._folder = folder
        self._log = log

    def attempt(self) -> Model:
        """Fetch the manifest, download every file it lists, verify, and rename the result into place.

        The manifest is fetched anew by every attempt: download links may expire or change with a re-export.

        :raises _RetryableError: a problem another attempt may not meet.
        :raises ModelError: a problem no attempt will get past.
        """
        files = self._manifest()
        total, started = 0, time.monotonic()
        self._log.info(
            "downloading exported model %r of project %r from %s (%d files)",
            self._exported_model,
            self._project,
            self._outbound.endpoint,
            len(files),
        )
        try:
            with staged_directory(self._folder) as staging:
                for name, uri in files:
                    total += self._download(name, uri, staging / name)
                try:
                    model = load_model(staging)
                except ArtifactError as exc:
                    raise _RetryableError(f"the downloaded model failed verification: {exc}") from exc
                if model.info.project_name != self._project:
                    raise ModelError(
                        f"the exported model {self._exported_model!r} holds a model of project "
                        f"{model.info.project_name!r}, not {self._project!r}: check projectName and exportedModelName"
                    )
        except OSError as exc:  # the disk's: each request turns its UnreachableError into _RetryableError
            raise ModelError(
                f"the model could not be written to {self._folder.parent} ({exc.strerror or exc}): "
                "check that the model folder is writable and has free space"
            ) from exc
        self._log.info(
            "model %s (%d bytes) in place at %s after %.2f s",
            model.info.model_id,
            total,
            self._folder,
            time.monotonic() - started,
        )
        return model

    def _manifest(self) -> list[tuple[str, str]]:
        """The ``(name, contentUri)`` of every file of the exported model, each checked before use."""
        project = urllib.parse.quote(self._project, safe="")
        exported = urllib.parse.quote(self._exported_model, safe="")
        path = (
            f"/language/authoring/analyze-text/projects/{project}/exported-models/{exported}/manifest"
            f"?api-version={MANIFEST_API_VERSION}"
        )
        try:
            answer = self._outbound.request("GET", path)
        except UnreachableError as exc:
            raise _RetryableError(str(exc)) from exc
        endpoint = self._outbound.endpoint
        if answer.status in (401, 403):
            raise ModelError(
                f"the Billing endpoint {endpoint} refused the key ({answer.status}: {_service_message(answer)}): "
                "set ApiKey= to a key of the Language resource whose endpoint is Billing="
            )
        if answer.status == 404:
            raise ModelError(
                f"the Billing endpoint {endpoint} has no exported model {self._exported_model!r} in project "
                f"{self._project!r} ({_service_message(answer)}): check projectName= and exportedModelName=, "
                f"and export the model with PUT {endpoint}/language/authoring/analyze-text/projects/{project}"
                f"/exported-models/{exported}?api-version={EXPORT_API_VERSION} "
                '{"trainedModelLabel": "<trained model>"}'
            )
        _raise_if_retryable(answer, "the manifest request")
        if answer.status != 200:
            raise ModelError(
                f"the Billing endpoint {endpoint} answered the manifest request with {answer.status} "
                f"({_service_message(answer)}): check that Billing= is the endpoint of a Language resource"
            )
        return _model_files(answer, endpoint)

    def _download(self, name: str, uri: str, target: Path) -> int:
        """Write the file at ``uri`` to ``target``; its size in bytes."""
        started = time.monotonic()
        shown = _without_query(uri)  # a blob link's query is its signature: never in a message or log
        try:
            answer = self._outbound.request("GET", uri, limit=MAX_FILE_BYTES)
        except UnreachableError as exc:
            raise _RetryableError(str(exc).replace(uri, shown)) from exc
        if answer.status != 200:
            # Retried whatever the status: the next attempt's manifest tells a refused key or a deleted
            # export (no retry) from an expired link or a re-export (fresh links).
            raise _RetryableError(
                f"downloading {name} from {shown} answered {answer.status} ({_service_message(answer)})",
                _retry_after(answer),
            )
        size = len(answer.body)
        if size > MAX_FILE_BYTES:
            raise ModelError(
                f"the exported model's file {name} is larger than the {MAX_FILE_BYTES} bytes a model file may "
                "have (the download was stopped there): refused"
            )
        with target.open("xb") as out:
            out.write(answer.body)
        self._log.info("downloaded %s: %d bytes in %.2f s", name, size, time.monotonic() - started)
        return size


def _model_files(answer: Answer, endpoint: str) -> list[tuple[str, str]]:
    """The manifest's files, refused whole if any entry is not a plain file name with an http(s) link: the
    names become paths in the model folder, so ``../x`` or ``a/b`` must never reach the disk."""
    body = answer.json()
    entries = body.get("modelFiles") if isinstance(body, dict) else None
    expected = '{"modelFiles": [{"name": ..., "contentUri": ...}]}'
    if not isinstance(entries, list) or not entries:
        raise ModelError(
            f"the Billing endpoint {endpoint} answered the manifest request with something other than "
            f"{expected}: check that Billing= is the endpoint of a Language resource"
        )
    files: list[tuple[str, str]] = []
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        uri = entry.get("contentUri") if isinstance(entry, dict) else None
        if not isinstance(name, str) or not isinstance(uri, str):
            raise ModelError(f"the exported model's manifest from {endpoint} has an entry that is not {expected}")
        if name in ("", ".", "..") or any(c in name for c in "/\\\0"):
            raise ModelError(f"the exported model's manifest names a file {name!r}, which is not a plain file name")
        if any(name == seen for seen, _ in files):
            raise ModelError(f"the exported model's manifest lists the file {name!r} twice")
        parts = urllib.parse.urlsplit(uri)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ModelError(f"the exported model's manifest gives file {name!r} a link that is not an http(s) URL")
        files.append((name, uri))
    return files


def _raise_if_retryable(answer: Answer, what: str) -> None:
    if answer.status in (408, 429) or 500 <= answer.status <= 599:
        raise _RetryableError(
            f"{what} answered {answer.status} ({_service_message(answer)})",
            _retry_after(answer),
        )


def _retry_after(answer: Answer) -> float | None:
    """``Retry-After`` in seconds, the form Azure sends; anything else is ignored (the backoff applies)."""
    value = answer.headers.get("Retry-After")
    try:
        seconds = float(value) if value is not None else math.nan
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None


def _service_message(answer: Answer) -> str:
    """The ``error.message`` of an Azure error body on one line, else the bare status."""
    body = answer.json()
    error = body.get("error") if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if not isinstance(message, str) or not message.strip():
        return f"HTTP {answer.status}"
    one_line = " ".join(message.split())
    return one_line if len(one_line) <= 300 else one_line[:297] + "..."


def _without_query(uri: str) -> str:
    parts = urllib.parse.urlsplit(uri)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
