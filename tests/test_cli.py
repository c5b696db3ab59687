"""The ``cner`` command line: the engine's workflow end to end, and one-line errors for bad input."""

from __future__ import annotations

import gc
import json
import signal
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import docker
import pytest
from click.testing import CliRunner

from emulator.cli import main
from emulator.ner import Model, save_model
from emulator.web.ports import free_port

from .conftest import docker_required


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_sample_train_predict(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["sample", str(tmp_path / "p"), "--documents", "25"])
    assert result.exit_code == 0, result.output
    project_file = Path(result.output.strip())
    evaluation = tmp_path / "evaluation.json"
    result = runner.invoke(
        main,
        [
            "train",
            str(project_file),
            "--out",
            str(tmp_path / "m"),
            "--label",
            "cli1",
            "--archive",
            str(tmp_path / "m.tar.gz"),
            "--evaluation",
            str(evaluation),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "split manual: 20 training, 5 test documents" in result.output
    assert "micro" in result.output
    assert (tmp_path / "m.tar.gz").stat().st_size > 0
    body = json.loads(evaluation.read_text())
    assert body["summary"]["customEntityRecognitionEvaluation"]["microF1"] > 0.5
    assert len(body["documents"]) == 5
    result = runner.invoke(
        main,
        [
            "predict",
            str(tmp_path / "m"),
            "--text",
            "Invoice number: INV-2024-00042\nDue date: 1 June 2024",
            "--string-index-type",
            "Utf16CodeUnit",
        ],
    )
    assert result.exit_code == 0, result.output
    (line,) = result.output.splitlines()
    entities = json.loads(line)["entities"]
    assert {k: v for k, v in entities[0].items() if k != "confidenceScore"} == {
        "text": "INV-2024-00042",
        "category": "InvoiceNumber",
        "offset": 16,
        "length": 14,
    }


def test_invalid_project_fails_with_the_issues_not_a_traceback(runner: CliRunner, tmp_path: Path) -> None:
    project_file = tmp_path / "p.json"
    project_file.write_text(json.dumps({"projectFileVersion": "2022-05-01", "stringIndexType": "Utf16CodeUnit"}))
    result = runner.invoke(main, ["train", str(project_file), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert "metadata" in result.output
    assert "Traceback" not in result.output
    project_file.write_text("{broken")
    result = runner.invoke(main, ["train", str(project_file), "--out", str(tmp_path / "m")])
    assert result.exit_code == 1
    assert "is not a JSON file" in result.output


def test_predict_with_a_broken_model_fails_cleanly(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["predict", str(tmp_path / "missing"), "--text", "x"])
    assert result.exit_code == 1
    assert "no model artifact" in result.output


def test_predict_refuses_text_that_is_not_utf8(runner: CliRunner, tmp_path: Path, sample_model: Model) -> None:
    model_dir = save_model(sample_model, tmp_path / "m")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Café Étoile S.A.".encode("latin-1"))
    result = runner.invoke(main, ["predict", str(model_dir), str(latin1)])
    assert result.exit_code == 1
    assert "not UTF-8 text" in result.output
    assert "Traceback" not in result.output


def test_up_into_an_impossible_folder_fails_cleanly(runner: CliRunner, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = runner.invoke(main, ["up", "--workdir", str(blocker / "stack")])
    assert result.exit_code == 1
    assert "Not a directory" in result.output


def _start_up(workdir: Path, *extra: str) -> subprocess.Popen[str]:
    """``cner up`` as a user runs it, on free ports, its output and errors on one pipe."""
    command = [sys.executable, "-m", "emulator", "up", "--workdir", str(workdir), *extra]
    command += ["--port", str(free_port()), "--cloud-port", str(free_port())]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _up_until_ready(workdir: Path, *extra: str) -> tuple[subprocess.Popen[str], list[str]]:
    """``cner up`` as a user runs it, read until it says how to use the stack."""
    process = _start_up(workdir, *extra)
    lines: list[str] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if "Ctrl-C stops both" in line:
            return process, lines
    process.wait(10)
    raise AssertionError("cner up ended before it was up:\n" + "".join(lines))


def _interrupt(process: subprocess.Popen[str], lines: list[str]) -> str:
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(lines) + rest
    return "".join(lines) + rest


def test_up_serves_the_sample_through_cloud_and_container_until_ctrl_c(tmp_path: Path) -> None:
    process, lines = _up_until_ready(tmp_path / "stack")
    try:
        output = "".join(lines)
        assert "training SampleModel: 100%" in output
        assert "downloaded model.crfsuite" in output
        prediction = json.loads(output[output.index("{\n") : output.index("\n}\n") + 2])
        assert {e["category"] for e in prediction["entities"]} >= {"InvoiceNumber", "SupplierName", "TotalAmount"}
        assert "curl -si -X POST" in output
        assert "begin_recognize_custom_entities" in output
        printed = output.split("Python (pip install azure-ai-textanalytics==5.4.0):\n")[1].split("\n\n")[0]
        ran = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(printed)], capture_output=True, text=True, timeout=60
        )
        assert "('InvoiceNumber', 'RE-10442')" in ran.stdout, ran.stderr  # the printed snippet works as printed
    finally:
        output = _interrupt(process, lines)
    assert "stopping the container and the emulated cloud" in output
    again, lines = _up_until_ready(tmp_path / "stack")  # the second run reuses the trained, exported model
    output = _interrupt(again, lines)
    assert "already trained and exported" in output
    assert "loaded from" in output
    assert "training" not in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Missing option '--api-key'"),
        (["--api-key", ""], "at least one non-empty API key"),
        (["--api-key", "k", "--tier", "S0"], "'S0' is not one of 'F0', 'S'"),
        (["--api-key", "k", "--port", "70000"], "70000 is not in the range"),
    ],
)
def test_cloud_refuses_bad_settings_before_serving(runner: CliRunner, args: list[str], message: str) -> None:
    result = runner.invoke(main, ["cloud", *args], env={"CNER_API_KEYS": ""})
    assert result.exit_code == 2
    assert message in result.output


# waitress leaves the socket and trigger of a server whose bind failed to the garbage collector; collected
# here, so their ResourceWarnings cannot surface in a later test.
@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
def test_cloud_on_a_busy_port_fails_with_one_line(runner: CliRunner, tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        args = ["cloud", "--api-key", "k", "--port", str(port), "--data-dir", str(tmp_path / "cloud")]
        result = runner.invoke(main, args)
    exit_code, output = result.exit_code, result.output
    del result  # its exception's traceback holds waitress's half-built server
    gc.collect()
    assert exit_code == 1
    assert f"cannot listen on 127.0.0.1:{port}: Address already in use (choose another port" in output
    assert "emulated Language resource" not in output  # no address announced that is not served
    assert "Traceback" not in output


@pytest.mark.filterwarnings("ignore::ResourceWarning", "ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.parametrize("host", ["", "nosuch.invalid"])  # .invalid never resolves (RFC 6761)
def test_cloud_on_an_address_it_cannot_have_fails_with_one_line(runner: CliRunner, tmp_path: Path, host: str) -> None:
    args = ["cloud", "--api-key", "k", "--host", host, "--port", "0", "--data-dir", str(tmp_path / "cloud")]
    result = runner.invoke(main, args)
    exit_code, output = result.exit_code, result.output
    del result
    gc.collect()
    assert exit_code == 1
    assert f"cannot listen on {host}:0: Invalid host/port specified (give an address of this host, such as" in output
    assert "Traceback" not in output


def test_ctrl_c_while_up_is_training_stops_everything_at_once(tmp_path: Path) -> None:
    process = _start_up(tmp_path / "stack")
    assert process.stdout is not None
    for line in process.stdout:
        if "training SampleModel" in line:
            break
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=30)
    assert process.returncode == 130, rest
    assert "interrupted before the stack was up" in rest
    assert "Ctrl-C stops both" not in rest


@docker_required
def test_up_with_docker_runs_the_container_from_our_image_and_removes_it(
    tmp_path: Path, container_image: str, docker_client: docker.DockerClient
) -> None:
    process, lines = _up_until_ready(tmp_path / "stack", "--docker")
    try:
        running = docker_client.containers.list(filters={"label": "cner.launcher", "ancestor": container_image})
        assert len(running) == 1
        assert running[0].attrs["HostConfig"]["NanoCpus"] == 1_000_000_000
        assert "InvoiceNumber" in "".join(lines)
    finally:
        output = _interrupt(process, lines)
    assert "stopping the container and the emulated cloud" in output
    assert not docker_client.containers.list(all=True, filters={"label": "cner.launcher"})


@docker_required
def test_container_docker_with_an_unknown_image_fails_with_one_line(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        main,
        [
            "container",
            "--docker",
            "--image",
            "cner-no-such-image:0",
            "--model-path",
            str(tmp_path / "m"),
            "--output-path",
            str(tmp_path / "o"),
            "Eula=accept",
        ],
    )
    assert result.exit_code == 1
    assert "image cner-no-such-image:0 is not on this machine" in result.output
    assert "Traceback" not in result.output


@docker_required
def test_image_build_with_a_base_that_cannot_be_had_fails_with_one_line(runner: CliRunner) -> None:
    result = runner.invoke(main, ["image", "build", "--base", "cner-no-such-base:0"])
    assert result.exit_code == 1
    assert "cner-no-such-base:0" in result.output
    assert "Traceback" not in result.output
