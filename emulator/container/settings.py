"""The container's settings: Microsoft's ``Key=value`` arguments and environment variables, read the way
ASP.NET Core configuration reads them, and checked before anything starts.

Microsoft's image takes ``Eula=accept Billing=URL ApiKey=KEY projectName=P exportedModelName=M`` as
arguments (any case: the documentation writes ``EULA``/``BILLING``/``APIKEY`` too), or the same keys as
environment variables, where ``__`` stands for the ``:`` of a nested key
(``Logging__Console__LogLevel__Default``). Arguments win over the environment, as in ASP.NET Core.

Every problem is a ``SettingsError`` whose one line names the setting and what to set it to, so a refused
start is fixed from the message alone. The key's *validity* is not a setting problem: the Billing endpoint
decides it at start (``startup.py``).
"""

from __future__ import annotations

import logging
import math
import os
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from emulator.ner.naming import RESOURCE_NAME

DEFAULT_MODEL_PATH = Path("/modelPath")
DEFAULT_OUTPUT_PATH = Path("/output")
DEFAULT_REPORT_INTERVAL = 600.0
"""Seconds between usage reports: Microsoft documents "about every 10 to 15 minutes"."""
DEFAULT_MAX_FAILED_ATTEMPTS = 10
"""Failed reports in a row after which the container stops serving for good (documented: 10)."""
LOG_LEVELS = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "information": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "none": logging.CRITICAL + 10,
}
"""ASP.NET Core's log levels, as ``Logging:Console:LogLevel:Default`` takes them, mapped to Python's."""

KNOWN_KEYS = (
    "Eula",
    "Billing",
    "ApiKey",
    "projectName",
    "exportedModelName",
    "Mounts:Output",
    "Logging:Console:LogLevel:Default",
    "HTTP_PROXY",
    "HTTP_PROXY_CREDS",
    "Metering:ReportIntervalSeconds",
    "Metering:MaxFailedAttempts",
    "Jobs:Workers",
    "Jobs:MaxQueued",
    "Jobs:MaxStored",
)


class SettingsError(ValueError):
    """A missing or wrong setting; the message is one line naming it and the fix."""


@dataclass(frozen=True)
class Settings:
    """What the container was started with; built only by ``read_settings``, so every field is valid."""

    billing: str
    api_key: str
    project_name: str
    exported_model_name: str
    model_path: Path
    output_path: Path
    log_level: int
    http_proxy: str | None
    report_interval: float
    max_failed_attempts: int
    workers: int
    max_queued: int
    max_stored: int

    def __repr__(self) -> str:
        """Never shows the key (settings end up in logs and tracebacks)."""
        return (
            f"Settings(billing={self.billing!r}, project_name={self.project_name!r}, "
            f"exported_model_name={self.exported_model_name!r}, model_path={str(self.model_path)!r})"
        )


def required_settings(billing: str, api_key: str, project: str, exported_model: str) -> list[str]:
    """The ``Key=value`` arguments every Custom NER container needs, as Microsoft's ``docker run`` gives them:
    the EULA accepted, the resource to meter against and its key, and which exported model to serve."""
    return [
        "Eula=accept",
        f"Billing={billing}",
        f"ApiKey={api_key}",
        f"projectName={project}",
        f"exportedModelName={exported_model}",
    ]


def parse_arguments(arguments: Iterable[str]) -> dict[str, str]:
    """``Key=value`` arguments (ASP.NET also accepts ``--Key=value`` and ``/Key=value``) by lower-cased key."""
    values: dict[str, str] = {}
    for argument in arguments:
        key, sep, value = argument.partition("=")
        key = key.removeprefix("--").removeprefix("/")
        if not sep or not key:
            raise SettingsError(
                f"argument {argument!r} is not a setting: write Key=value, e.g. Eula=accept or Billing=https://..."
            )
        values[key.lower()] = value
    return values


def environment_values(environ: Mapping[str, str]) -> dict[str, str]:
    """Environment variables as settings: ``__`` is the ``:`` of a nested key; names are case-insensitive."""
    return {name.replace("__", ":").lower(): value for name, value in environ.items()}


def unknown_keys(values: Mapping[str, str]) -> list[str]:
    """Keys given as arguments that this container does not read (a typo is worth a warning)."""
    known = {k.lower() for k in KNOWN_KEYS}
    return sorted(k for k in values if k not in known)


def read_settings(
    arguments: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
    *,
    model_path: Path | None = None,
) -> Settings:
    """The settings from ``arguments`` over ``environ`` (default ``os.environ``).

    :raises SettingsError: the first missing or wrong setting, in the order Microsoft's image checks them.
    """
    values = environment_values(os.environ if environ is None else environ)
    values.update(parse_arguments(arguments))

    def get(key: str) -> str | None:
        value = values.get(key.lower())
        return value.strip() if value is not None else None

    eula = get("Eula")
    if eula is None or eula == "":
        raise SettingsError("Eula is missing: accept the license with Eula=accept")
    if eula.lower() != "accept":
        raise SettingsError(f"Eula={eula!r} does not accept the license: set Eula=accept")
    billing = _billing(get("Billing"))
    api_key = get("ApiKey")
    if not api_key:
        raise SettingsError("ApiKey is missing: set ApiKey= to a key of the Language resource named by Billing")
    project = _name(get("projectName"), "projectName", "the Custom NER project whose model to serve")
    exported = _name(get("exportedModelName"), "exportedModelName", "the exported model to serve")
    return Settings(
        billing=billing,
        api_key=api_key,
        project_name=project,
        exported_model_name=exported,
        model_path=model_path or DEFAULT_MODEL_PATH,
        output_path=Path(get("Mounts:Output") or DEFAULT_OUTPUT_PATH),
        log_level=_log_level(get("Logging:Console:LogLevel:Default")),
        http_proxy=_proxy(get("HTTP_PROXY"), get("HTTP_PROXY_CREDS")),
        report_interval=_number(
            get("Metering:ReportIntervalSeconds"),
            "Metering:ReportIntervalSeconds",
            DEFAULT_REPORT_INTERVAL,
            0.05,
            86_400.0,
        ),
        max_failed_attempts=int(
            _number(
                get("Metering:MaxFailedAttempts"),
                "Metering:MaxFailedAttempts",
                DEFAULT_MAX_FAILED_ATTEMPTS,
                1,
                1_000,
                integer=True,
            )
        ),
        workers=int(_number(get("Jobs:Workers"), "Jobs:Workers", default_workers(), 1, 64, integer=True)),
        max_queued=int(_number(get("Jobs:MaxQueued"), "Jobs:MaxQueued", 256, 1, 100_000, integer=True)),
        max_stored=int(_number(get("Jobs:MaxStored"), "Jobs:MaxStored", 10_000, 1, 1_000_000, integer=True)),
    )


CGROUP = Path("/sys/fs/cgroup")


def cpu_quota(cgroup: Path = CGROUP) -> float | None:
    """The CPUs the cgroup's CFS quota allows (``docker run --cpus``), or None without a quota.

    cgroup v2 writes ``cpu.max`` as ``"<quota> <period>"`` or ``"max <period>"``; v1 splits it into
    ``cpu/cpu.cfs_quota_us`` (-1: none) and ``cpu/cpu.cfs_period_us``.
    """
    try:
        v2 = cgroup / "cpu.max"
        if v2.is_file():
            quota, period = v2.read_text().split()[:2]
            return None if quota == "max" else int(quota) / int(period)
        quota_us = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text())
        period_us = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us


DEFAULT_LISTEN = ("127.0.0.1", 5000)


def listen_address(environ: Mapping[str, str]) -> tuple[str, int]:
    """Where to listen, from ``ASPNETCORE_URLS`` as ASP.NET Core reads it (the first URL; ``+`` and ``*``
    mean every interface), else loopback port 5000. The image sets ``http://+:5000``; a launcher that runs it
    with host networking sets ``http://127.0.0.1:<port>``, for our image and Microsoft's alike.

    :raises SettingsError: the variable is set but is not an ``http://host:port`` URL.
    """
    urls = environ.get("ASPNETCORE_URLS", "").strip()
    if not urls:
        return DEFAULT_LISTEN
    first = urls.split(";")[0].strip()
    parsed = urllib.parse.urlsplit(first.replace("://+", "://0.0.0.0").replace("://*", "://0.0.0.0"))
    try:
        port = parsed.port
    except ValueError:
        port = None
    if parsed.scheme != "http" or not parsed.hostname or port is None:
        raise SettingsError(f"ASPNETCORE_URLS={first!r} is not an address to listen on: write it as http://+:5000")
    return parsed.hostname, port


def default_workers(cgroup: Path = CGROUP) -> int:
    """Prediction threads: one per CPU this process may use, the smaller of the CPUs it may run on and its
    cgroup's CPU quota (in a container limited with ``--cpus 1`` on a 16-core host that is 1, not 16: more
    threads than CPU time only add contention, since the engine holds the GIL while tagging)."""
    cpus = len(os.sched_getaffinity(0))
    quota = cpu_quota(cgroup)
    if quota is not None:
        cpus = min(cpus, math.ceil(quota))
    return max(1, cpus)


def _billing(value: str | None) -> str:
    if not value:
        raise SettingsError(
            "Billing is missing: set Billing= to the endpoint of the Language resource, "
            "e.g. Billing=https://<resource>.cognitiveservices.azure.com/"
        )
    parsed = urllib.parse.urlsplit(value)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise SettingsError(
            f"Billing={value!r} is not an endpoint URL: set Billing= to the http(s) URL of the Language resource, "
            "e.g. Billing=https://<resource>.cognitiveservices.azure.com/"
        )
    if parsed.query or parsed.fragment:
        raise SettingsError(f"Billing={value!r} must not carry a query or fragment: give the resource's endpoint")
    return value.rstrip("/")


def _name(value: str | None, key: str, what: str) -> str:
    if not value:
        raise SettingsError(f"{key} is missing: set {key}= to {what}")
    if not RESOURCE_NAME(value):
        raise SettingsError(f"{key}={value!r} is not a valid name: use {RESOURCE_NAME.rule}")
    return value


def _log_level(value: str | None) -> int:
    if not value:
        return logging.INFO
    level = LOG_LEVELS.get(value.lower())
    if level is None:
        raise SettingsError(
            f"Logging:Console:LogLevel:Default={value!r} is not a log level: use one of "
            "Trace, Debug, Information, Warning, Error, Critical, None"
        )
    return level


def _proxy(proxy: str | None, credentials: str | None) -> str | None:
    """``HTTP_PROXY`` (e.g. ``http://proxy:8888``) with ``HTTP_PROXY_CREDS`` (``user:password``) folded in."""
    if not proxy:
        if credentials:
            raise SettingsError("HTTP_PROXY_CREDS is set without HTTP_PROXY: set HTTP_PROXY=http://host:port too")
        return None
    parsed = urllib.parse.urlsplit(proxy)
    if parsed.scheme not in ("http", "https") or not parsed.hostname or not parsed.port:
        raise SettingsError(f"HTTP_PROXY={proxy!r} is not a proxy URL: write it as http://host:port")
    if credentials:
        if ":" not in credentials:
            raise SettingsError("HTTP_PROXY_CREDS must be user:password")
        user, _, password = credentials.partition(":")
        auth = f"{urllib.parse.quote(user, safe='')}:{urllib.parse.quote(password, safe='')}@"
        proxy = f"{parsed.scheme}://{auth}{parsed.hostname}:{parsed.port}"
    return proxy


def _number(value: str | None, key: str, default: float, low: float, high: float, *, integer: bool = False) -> float:
    if value is None or value == "":
        return default
    try:
        number = int(value) if integer else float(value)
    except ValueError:
        number = None
    if number is None or not low <= number <= high:
        kind = "an integer" if integer else "a number"
        raise SettingsError(f"{key}={value!r} is not valid: use {kind} from {low:g} to {high:g}")
    return float(number)
