"""What ``cner up`` brings up: the emulated cloud, the sample project published through it (trained,
deployed, exported for the container) and our container serving it, until Ctrl-C.

The first run trains; later runs find the exported model in the data folder and start at once. Progress is
visible: training percent, the container's log (model download, billing check), and the URLs, a curl call
and an SDK snippet once both serve. Kept apart from the command line so it can be tested without a terminal.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.cloud.app import close_app, create_app
from emulator.cloud.client import AuthoringClient, CloudError
from emulator.cloud.resource import CloudConfig
from emulator.container.process import ContainerProcess
from emulator.container.settings import required_settings
from emulator.launcher.docker_launcher import DockerContainer
from emulator.web.server import BackgroundServer
from fixtures.sample_project import DEFAULT_SEED, PROJECT_NAME, build_project, write_project

SAMPLE_MODEL_LABEL = "SampleModel"
SAMPLE_DEPLOYMENT = "production"
LOCAL_KEY = "local-dev-key"
"""The key ``cner up`` gives the local resource; a development default, never a real Azure key."""
RUNTIME_VERSION = "2023-04-01"
SNIPPET_TEXT = (
    "Contoso Ltd · 12 Harbour Road, 98101 Seattle, USA\n\n"
    "Invoice no. RE-10442 dated 2024-03-01: total EUR 1,250.00, due 2024-03-31."
)
"""The invoice of the printed curl call and SDK snippet (laid out as the sample's invoices are)."""

Say = Callable[[str], None]


@dataclass(frozen=True)
class StackUp:
    """What is serving, and the first prediction through the container."""

    cloud_url: str
    container_url: str
    demo_text: str
    demo_entities: list[dict[str, Any]]


def publish_sample(client: AuthoringClient, project_file: Path, say: Say) -> float:
    """Upload, import, train, deploy and export the sample model through ``client``; returns its micro-F1."""
    body = json.loads(project_file.read_text(encoding="utf-8"))
    client.upload_documents(body, project_file.parent)
    client.run("POST", f"projects/{PROJECT_NAME}/:import", body)
    say(f"imported {PROJECT_NAME} ({len(body['assets']['documents'])} documents); training {SAMPLE_MODEL_LABEL}")
    training = {
        "modelLabel": SAMPLE_MODEL_LABEL,
        "trainingConfigVersion": "2022-05-01",
        "evaluationOptions": {"kind": "manual"},
    }
    client.run("POST", f"projects/{PROJECT_NAME}/:train", training, progress=_training_progress(say))
    _, summary, _ = client.authoring(
        "GET", f"projects/{PROJECT_NAME}/models/{SAMPLE_MODEL_LABEL}/evaluation/summary-result"
    )
    micro_f1 = float(summary["customEntityRecognitionEvaluation"]["microF1"])
    client.run(
        "PUT", f"projects/{PROJECT_NAME}/deployments/{SAMPLE_DEPLOYMENT}", {"trainedModelLabel": SAMPLE_MODEL_LABEL}
    )
    client.run(
        "PUT",
        f"projects/{PROJECT_NAME}/exported-models/{SAMPLE_MODEL_LABEL}",
        {"trainedModelLabel": SAMPLE_MODEL_LABEL},
    )
    say(f"model {SAMPLE_MODEL_LABEL}: test micro-F1 {micro_f1:.3f}; deployed as {SAMPLE_DEPLOYMENT!r} and exported")
    return micro_f1


def _training_progress(say: Say) -> Callable[[dict[str, Any]], None]:
    """Says the training percentage each time it changes."""
    shown: set[int] = set()

    def show(job: dict[str, Any]) -> None:
        percent = job.get("result", {}).get("trainingStatus", {}).get("percentComplete")
        if isinstance(percent, int) and percent not in shown:
            shown.add(percent)
            say(f"training {SAMPLE_MODEL_LABEL}: {percent}%")

    return show


def ensure_published(client: AuthoringClient, workdir: Path, say: Say) -> None:
    """Publish the sample unless the resource already holds its exported model (from an earlier run)."""
    try:
        client.authoring("GET", f"projects/{PROJECT_NAME}/exported-models/{SAMPLE_MODEL_LABEL}")
    except CloudError:
        project_file = write_project(workdir / "sample-project")
        say(f"wrote the sample project to {project_file.parent}")
        publish_sample(client, project_file, say)
        return
    say(f"{PROJECT_NAME}/{SAMPLE_MODEL_LABEL} is already trained and exported (kept from an earlier run)")


def container_settings(cloud_url: str, output: Path | None) -> list[str]:
    """Microsoft's ``Key=value`` settings for a container of the sample against ``cloud_url``; ``output`` is the
    output folder of a process (an image has its ``/output`` mount)."""
    settings = required_settings(cloud_url, LOCAL_KEY, PROJECT_NAME, SAMPLE_MODEL_LABEL)
    return settings if output is None else [*settings, f"Mounts:Output={output}"]


def analyze(container_url: str, text: str) -> list[dict[str, Any]]:
    """Entities of ``text`` through the container's REST API (submit a job, poll it), as a client does it."""
    body = {
        "analysisInput": {"documents": [{"id": "1", "text": text, "language": "en"}]},
        "tasks": [
            {
                "kind": "CustomEntityRecognition",
                "taskName": "demo",
                "parameters": {"projectName": PROJECT_NAME, "deploymentName": SAMPLE_DEPLOYMENT},
            }
        ],
    }
    submit = urllib.request.Request(  # noqa: S310 - our container's URL
        f"{container_url}/language/analyze-text/jobs?api-version={RUNTIME_VERSION}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(submit, timeout=30) as answer:  # noqa: S310
        location = answer.headers["Operation-Location"]
    deadline = time.monotonic() + 30
    while True:
        with urllib.request.urlopen(location, timeout=30) as answer:  # noqa: S310
            job = json.load(answer)
        if job["status"] == "succeeded":
            return list(job["tasks"]["items"][0]["results"]["documents"][0]["entities"])
        if job["status"] in ("failed", "cancelled") or time.monotonic() > deadline:
            raise CloudError(f"the demo job ended {job['status']}: {job.get('errors')}")
        time.sleep(0.1)


def usage(cloud_url: str, container_url: str) -> str:
    """How to call what is up: printed once both serve."""
    snippet = json.dumps(SNIPPET_TEXT, ensure_ascii=False)  # a JSON string is a Python string literal too
    return f"""
emulated Language resource  {cloud_url}   (key {LOCAL_KEY}; authoring, exported models, billing)
Custom NER container        {container_url}   (home page {container_url}/, API reference {container_url}/swagger)

curl:
  curl -si -X POST '{container_url}/language/analyze-text/jobs?api-version={RUNTIME_VERSION}' \\
    -H 'Content-Type: application/json' -d '{{"analysisInput": {{"documents": [{{"id": "1", "language": "en",
      "text": {snippet}}}]}},
      "tasks": [{{"kind": "CustomEntityRecognition", "parameters": {{"projectName": "{PROJECT_NAME}",
      "deploymentName": "{SAMPLE_DEPLOYMENT}"}}}}]}}'
  curl -s 'URL-FROM-THE-Operation-Location-HEADER'

Python (pip install azure-ai-textanalytics==5.4.0):
  from azure.ai.textanalytics import TextAnalyticsClient
  from azure.core.credentials import AzureKeyCredential
  client = TextAnalyticsClient("{container_url}", AzureKeyCredential("{LOCAL_KEY}"))
  poller = client.begin_recognize_custom_entities(
      [{snippet}],
      project_name="{PROJECT_NAME}", deployment_name="{SAMPLE_DEPLOYMENT}", polling_interval=0.2)
  for doc in poller.result():
      print([(e.category, e.text) for e in doc.entities])

Load (Locust; thresholds set the exit code, reports in reports/load/):
  cner load --target {container_url} --tps 30 --duration 60s

Ctrl-C stops both.
"""


def run_stack(
    workdir: Path,
    *,
    say: Say,
    container_log: Say,
    stop: threading.Event,
    cloud_port: int = 5100,
    port: int = 5000,
    on_up: Callable[[StackUp], None] = lambda _: None,
    image: str | None = None,
) -> int:
    """Serve the stack until ``stop`` is set (or the container exits); returns the container's exit status.

    The container runs as a child process, or, given an ``image``, in Docker (host networking, so it reaches
    the cloud on loopback, and ``--cpus 1 --memory 4g`` as Microsoft's documentation runs it).
    """
    config = CloudConfig(workdir / "cloud", (LOCAL_KEY,), retry_after=0.2)
    app = create_app(config)
    try:
        with BackgroundServer(app, port=cloud_port) as cloud:
            say(f"emulated Language resource at {cloud.url} (data in {config.data_dir})")
            ensure_published(AuthoringClient(cloud.url, LOCAL_KEY), workdir, say)
            say(f"starting the container on port {port} (model folder {workdir / 'modelPath'})")
            container: ContainerProcess | DockerContainer
            if image is None:
                settings = container_settings(cloud.url, workdir / "output")
                container = ContainerProcess(settings, model_path=workdir / "modelPath", port=port, log=container_log)
            else:
                container = DockerContainer(
                    image,
                    container_settings(cloud.url, None),
                    model_path=workdir / "modelPath",
                    output_path=workdir / "output",
                    port=port,
                    host_network=True,
                    log=container_log,
                )
            status = 0
            with container:
                url = container.wait_ready(120)
                demo_text = build_project(seed=DEFAULT_SEED + 1, documents=1).documents[0].text
                on_up(StackUp(cloud.url, url, demo_text, analyze(url, demo_text)))
                while not stop.wait(0.2):
                    if (code := container.returncode) is not None:
                        say(f"the container exited with status {code}")
                        status = code
                        break
                say("stopping the container and the emulated cloud")
            return status
    finally:
        close_app(app)
