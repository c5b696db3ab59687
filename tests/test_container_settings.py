"""The container's settings (ASP.NET-style Key=value and environment) and its outbound HTTP."""

from __future__ import annotations

import http.server
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from emulator.container.outbound import KEY_HEADER, Outbound, UnreachableError
from emulator.container.settings import (
    SettingsError,
    cpu_quota,
    default_workers,
    listen_address,
    parse_arguments,
    read_settings,
    unknown_keys,
)

REQUIRED = [
    "Eula=accept",
    "Billing=https://res.cognitiveservices.azure.com/",
    "ApiKey=secret-key",
    "projectName=Invoices",
    "exportedModelName=v1",
]


def test_required_settings_and_defaults() -> None:
    settings = read_settings(REQUIRED, {})
    assert settings.billing == "https://res.cognitiveservices.azure.com"
    assert (settings.project_name, settings.exported_model_name) == ("Invoices", "v1")
    assert settings.model_path == Path("/modelPath")
    assert settings.output_path == Path("/output")
    assert settings.report_interval == 600
    assert settings.max_failed_attempts == 10
    assert settings.log_level == logging.INFO
    assert settings.http_proxy is None


def test_keys_are_case_insensitive_as_in_microsofts_examples() -> None:
    settings = read_settings(
        [
            "EULA=accept",
            "BILLING=http://127.0.0.1:5100",
            "APIKEY=k",
            "PROJECTNAME=P",
            "exportedmodelname=M",
            "--mounts:output=/data/out",
            "/Logging:Console:LogLevel:Default=Debug",
        ],
        {},
    )
    assert settings.api_key == "k"
    assert settings.output_path == Path("/data/out")
    assert settings.log_level == logging.DEBUG


def test_environment_variables_with_double_underscores_and_arguments_win() -> None:
    env = {
        "Eula": "accept",
        "Billing": "http://127.0.0.1:1",
        "ApiKey": "from-env",
        "projectName": "P",
        "exportedModelName": "M",
        "Metering__ReportIntervalSeconds": "0.5",
        "METERING__MAXFAILEDATTEMPTS": "3",
    }
    settings = read_settings(["ApiKey=from-argument"], env)
    assert settings.api_key == "from-argument"
    assert settings.report_interval == 0.5
    assert settings.max_failed_attempts == 3


def test_the_proxy_takes_its_credentials() -> None:
    settings = read_settings([*REQUIRED, "HTTP_PROXY=http://proxy:8888", "HTTP_PROXY_CREDS=user:p@ss"], {})
    assert settings.http_proxy == "http://user:p%40ss@proxy:8888"


def test_the_key_never_shows_in_the_settings_repr() -> None:
    assert "secret-key" not in repr(read_settings(REQUIRED, {}))


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("Eula=yes", "set Eula=accept"),
        ("Billing=ftp://x", "is not an endpoint URL"),
        ("Billing=https://x/?a=1", "must not carry a query"),
        ("projectName=a/b", "is not a valid name"),
        ("Logging:Console:LogLevel:Default=Loud", "is not a log level"),
        ("Metering:ReportIntervalSeconds=0", "use a number from 0.05"),
        ("Metering:MaxFailedAttempts=2.5", "use an integer"),
        ("Jobs:Workers=0", "Jobs:Workers"),
        ("HTTP_PROXY=proxy:8888", "write it as http://host:port"),
        ("HTTP_PROXY_CREDS=user:pw", "without HTTP_PROXY"),
        ("novalue", "is not a setting"),
    ],
)
def test_a_wrong_setting_is_named_with_its_fix(argument: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        read_settings([*REQUIRED, argument], {})


def test_unknown_keys_are_reported() -> None:
    assert unknown_keys(parse_arguments([*REQUIRED, "Biling=x", "Mounts:Output=/o"])) == ["biling"]


# Outbound -------------------------------------------------------------------------------------------------------


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: ClassVar[list[str | None]] = []

    def do_GET(self) -> None:
        _Recorder.seen.append(self.headers.get(KEY_HEADER))
        self.send_response(200)
        self.send_header("Content-Length", "10")
        self.end_headers()
        self.wfile.write(b"0123456789")

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _Recorder.seen = []
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_key_goes_to_the_endpoint_only(recorder: str) -> None:
    Outbound(recorder, "the-key").request("GET", "/a")
    Outbound("http://127.0.0.1:9", "the-key").request("GET", f"{recorder}/blob?sig=x")  # another origin
    assert _Recorder.seen == ["the-key", None]


def test_a_limit_stops_reading(recorder: str) -> None:
    assert Outbound(recorder, "k").request("GET", "/a", limit=4).body == b"01234"


def test_no_answer_is_unreachable_and_never_names_the_key() -> None:
    with pytest.raises(UnreachableError) as caught:
        Outbound("http://127.0.0.1:9", "the-key", timeout=2).request("GET", "/x")
    assert "the-key" not in str(caught.value)


@pytest.mark.parametrize(
    ("files", "quota", "workers"),
    [
        ({"cpu.max": "100000 100000\n"}, 1.0, 1),  # cgroup v2, --cpus 1
        ({"cpu.max": "150000 100000\n"}, 1.5, 2),
        ({"cpu.max": "max 100000\n"}, None, None),
        ({"cpu/cpu.cfs_quota_us": "50000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 0.5, 1),  # cgroup v1
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None, None),
        ({}, None, None),
    ],
)
def test_workers_follow_the_cgroup_cpu_quota(
    tmp_path: Path, files: dict[str, str], quota: float | None, workers: int | None
) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert cpu_quota(tmp_path) == quota
    assert default_workers(tmp_path) == (workers or len(os.sched_getaffinity(0)))


@pytest.mark.parametrize(
    ("urls", "address"),
    [
        (None, ("127.0.0.1", 5000)),
        ("http://+:5000", ("0.0.0.0", 5000)),
        ("http://*:8080;http://+:9000", ("0.0.0.0", 8080)),
        ("http://127.0.0.1:5123", ("127.0.0.1", 5123)),
    ],
)
def test_the_listen_address_comes_from_aspnetcore_urls(urls: str | None, address: tuple[str, int]) -> None:
    assert listen_address({"ASPNETCORE_URLS": urls} if urls else {}) == address


def test_a_wrong_aspnetcore_urls_is_named() -> None:
    with pytest.raises(SettingsError, match="ASPNETCORE_URLS='https://x' is not an address"):
        listen_address({"ASPNETCORE_URLS": "https://x"})
