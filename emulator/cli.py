"""The ``cner`` command: one entry point for the engine, the sample data and the offline stack.

Every command reports bad input as one line naming the problem (exit status 1), never a traceback.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import IO

import click

from emulator.cloud.app import close_app, create_app
from emulator.cloud.client import CloudError
from emulator.cloud.resource import TIERS, CloudConfig
from emulator.container.main import configure_logging
from emulator.container.main import run as run_container
from emulator.container.process import ContainerStartError
from emulator.container.settings import (
    DEFAULT_MODEL_PATH,
    SettingsError,
    listen_address,
    parse_arguments,
    read_settings,
    unknown_keys,
)
from emulator.launcher.docker_launcher import DEFAULT_MEMORY, MICROSOFT_IMAGE, DockerLaunchError, docker_client
from emulator.launcher.foreground import docker_container, run_in_docker
from emulator.launcher.image import IMAGE_REPOSITORY, ImageError, build_image, repo_root
from emulator.ner import (
    DirectorySource,
    EngineError,
    EvaluationOptions,
    SplitKind,
    StringIndexType,
    TextIndex,
    entities_json,
    load_model,
    parse_project,
    save_model,
    train_project,
    write_archive,
)
from emulator.quickstart import StackUp, run_stack, usage
from emulator.web.server import ListenError, serve
from fixtures.sample_project import DEFAULT_DOCUMENTS, DEFAULT_SEED, write_project
from loadtests.command import load

DEFAULT_IMAGE = f"{IMAGE_REPOSITORY}:latest"


class _Group(click.Group):
    """Turns engine, emulated-cloud and file-system errors into a clean one-line failure."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except (EngineError, CloudError, ContainerStartError, DockerLaunchError, ImageError, ListenError) as exc:
            raise click.ClickException(str(exc)) from exc
        except UnicodeDecodeError as exc:
            raise click.ClickException(f"the input is not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
        except OSError as exc:
            raise click.ClickException(f"{exc.filename or 'file system'}: {exc.strerror or exc}") from exc


@click.group(cls=_Group)
@click.version_option(package_name="cner-emulator")
def main() -> None:
    """Offline twin of Azure AI Language Custom NER."""


main.add_command(load)


@main.command()
@click.argument("out_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option("--seed", default=DEFAULT_SEED, show_default=True, help="Random seed; same seed, same files.")
@click.option("--documents", default=DEFAULT_DOCUMENTS, show_default=True, type=click.IntRange(1, 100_000))
def sample(out_dir: Path, seed: int, documents: int) -> None:
    """Write the generated sample project (supplier invoices) in Azure's import format."""
    click.echo(write_project(out_dir, seed, documents))


def _read_json(path: Path) -> object:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path} is not a JSON file: {exc}") from exc


@main.command()
@click.argument("project_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--documents-root",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="Folder the document locations are relative to (default: the project file's folder).",
)
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write the model artifact to (replaced if it exists).",
)
@click.option("--label", default="model1", show_default=True, help="Trained model label.")
@click.option(
    "--split",
    type=click.Choice([k.value for k in SplitKind]),
    help="manual: use each document's dataset; percentage: random split (default: manual if any "
    "document has a dataset).",
)
@click.option("--test-percentage", default=20, show_default=True, type=click.IntRange(1, 99))
@click.option("--archive", type=click.Path(dir_okay=False, path_type=Path), help="Also write a .tar.gz archive.")
@click.option(
    "--evaluation",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the Azure-shaped evaluation summary and per-document results as JSON.",
)
def train(
    project_file: Path,
    documents_root: Path | None,
    out_dir: Path,
    label: str,
    split: str | None,
    test_percentage: int,
    archive: Path | None,
    evaluation: Path | None,
) -> None:
    """Import an Azure project file, train a model, evaluate it and export the artifact."""
    project = parse_project(_read_json(project_file), DirectorySource(documents_root or project_file.parent))
    options = EvaluationOptions(
        kind=SplitKind(split) if split else None,
        training_split_percentage=100 - test_percentage,
        testing_split_percentage=test_percentage,
    )
    result = train_project(project, label, evaluation_options=options)
    save_model(result.model, out_dir, overwrite=True)
    if archive is not None:
        write_archive(out_dir, archive)
    report = result.evaluation
    click.echo(f"model {result.model.info.model_id} -> {out_dir}")
    click.echo(
        f"split {report.kind.value}: {len(result.split.train)} training, {len(result.split.test)} test documents"
    )
    click.echo(f"{'category':<24}{'precision':>10}{'recall':>10}{'f1':>10}")
    for name, m in report.categories.items():
        click.echo(f"{name:<24}{m.precision:>10.3f}{m.recall:>10.3f}{m.f1:>10.3f}")
    click.echo(f"{'micro':<24}{report.micro[0]:>10.3f}{report.micro[1]:>10.3f}{report.micro[2]:>10.3f}")
    click.echo(f"{'macro':<24}{report.macro[0]:>10.3f}{report.macro[1]:>10.3f}{report.macro[2]:>10.3f}")
    if evaluation is not None:
        body = {"summary": report.summary_json(), "documents": report.document_results_json()}
        evaluation.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


@main.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("files", nargs=-1, type=click.File("r", encoding="utf-8"))
@click.option("--text", "texts", multiple=True, help="A text to analyze (repeatable); or give files, or '-'.")
@click.option(
    "--string-index-type",
    type=click.Choice([u.value for u in StringIndexType]),
    default=StringIndexType.TEXT_ELEMENTS_V8.value,
    show_default=True,
)
def predict(model_dir: Path, files: tuple[IO[str], ...], texts: tuple[str, ...], string_index_type: str) -> None:
    """Recognize entities with a model artifact; prints one JSON object per document."""
    recognizer = load_model(model_dir).recognizer
    inputs = list(texts) + [fh.read() for fh in files]
    if not inputs:
        raise click.UsageError("give --text TEXT, one or more files, or '-' for standard input")
    unit = StringIndexType(string_index_type)
    for i, text in enumerate(inputs, start=1):
        entities = entities_json(TextIndex(text), recognizer.recognize(text), unit)
        click.echo(json.dumps({"id": str(i), "entities": entities}, ensure_ascii=False))


@main.command()
@click.option(
    "--workdir",
    default=".cner",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the stack keeps its data (cloud state, model folder, usage spool).",
)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(0, 65535), help="The container's port.")
@click.option("--cloud-port", default=5100, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--docker", "in_docker", is_flag=True, help="Run the container in Docker (the image is built first if needed)."
)
def up(workdir: Path, port: int, cloud_port: int, in_docker: bool) -> None:
    """Bring the offline stack up until Ctrl-C: the emulated cloud with the sample project trained, deployed and
    exported (first run only), and our container serving it."""
    stop, serving = threading.Event(), threading.Event()

    def on_signal(*_: object) -> None:
        """Before the stack serves, interrupt whatever step runs (training, download); after, stop serving."""
        if not serving.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}

    def on_up(stack: StackUp) -> None:
        serving.set()  # before saying so: a Ctrl-C right after the banner must stop, not interrupt
        click.echo("[up] prediction by the container on an invoice the model has not seen:", err=True)
        json.dump({"text": stack.demo_text, "entities": stack.demo_entities}, sys.stdout, indent=2, ensure_ascii=False)
        click.echo()
        click.echo(usage(stack.cloud_url, stack.container_url), err=True)

    try:
        image = _image(rebuild=False) if in_docker else None
        status = run_stack(
            workdir,
            say=lambda line: click.echo(f"[up] {line}", err=True),
            container_log=lambda line: click.echo(f"[container] {line}", err=True),
            stop=stop,
            cloud_port=cloud_port,
            port=port,
            on_up=on_up,
            image=image,
        )
    except KeyboardInterrupt:
        click.echo("[up] interrupted before the stack was up; stopped what had started", err=True)
        status = 130
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    sys.exit(status)


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--host", help="Interface to listen on [default: from ASPNETCORE_URLS, else 127.0.0.1].")
@click.option("--port", type=click.IntRange(0, 65535), help="[default: from ASPNETCORE_URLS, else 5000]")
@click.option(
    "--model-path",
    type=click.Path(file_okay=False, path_type=Path),
    help="The model folder: the exported model is loaded from, or downloaded to, here "
    "[default: /modelPath; with --docker ./modelPath, mounted at /modelPath].",
)
@click.option("--docker", "in_docker", is_flag=True, help="Run the image in Docker instead (docker-py launcher).")
@click.option("--image", help=f"With --docker: the image [default: {DEFAULT_IMAGE}; or {MICROSOFT_IMAGE}].")
@click.option("--cpus", default=1.0, show_default=True, type=click.FloatRange(0.1, 64), help="With --docker.")
@click.option("--memory", default=DEFAULT_MEMORY, show_default=True, help="With --docker.")
@click.option(
    "--output-path",
    default="output",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="With --docker: the folder mounted at /output (the usage spool).",
)
@click.argument("settings", nargs=-1)
def container(
    host: str | None,
    port: int | None,
    model_path: Path | None,
    in_docker: bool,
    image: str | None,
    cpus: float,
    memory: str,
    output_path: Path,
    settings: tuple[str, ...],
) -> None:
    """Run the Custom NER container in this process (or, with --docker, an image in Docker with --cpus and
    --memory limits, as Microsoft documents it). SETTINGS are Microsoft's Key=value arguments:

    \b
      Eula=accept Billing=ENDPOINT ApiKey=KEY projectName=P exportedModelName=M
      [Mounts:Output=DIR] [Logging:Console:LogLevel:Default=Information] [HTTP_PROXY=http://host:port]
      [Metering:ReportIntervalSeconds=600] [Metering:MaxFailedAttempts=10]

    Each may also be an environment variable (nested keys with __, e.g. Mounts__Output).
    """
    if in_docker:
        launcher = docker_container(
            image or DEFAULT_IMAGE,
            settings,
            model_path=model_path or Path("modelPath"),
            output_path=output_path,
            port=5000 if port is None else port,
            cpus=cpus,
            memory=memory,
            log=lambda line: click.echo(f"[container] {line}", err=True),
        )
        sys.exit(run_in_docker(launcher, say=lambda line: click.echo(f"[docker] {line}", err=True)))
    model_path = model_path or DEFAULT_MODEL_PATH
    try:
        parsed = read_settings(settings, os.environ, model_path=model_path)
        default_host, default_port = listen_address(os.environ)
        host, port = host or default_host, default_port if port is None else port
        configure_logging(parsed.log_level)
        for key in unknown_keys(parse_arguments(settings)):
            logging.getLogger("cner.container").warning("ignoring unknown setting %r", key)
        status = run_container(parsed, host, port)
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(status)


@main.command(context_settings={"ignore_unknown_options": True})
@click.option("--target", metavar="URL", help="A running container to judge.")
@click.option("--image", "image_ref", metavar="IMAGE", help="An image to start with --cpus/--memory and judge.")
@click.option("--billing", metavar="URL", help="Billing endpoint for --image [default: an embedded emulated cloud].")
@click.option("--api-key", envvar="CNER_API_KEY", help="ApiKey for --image with --billing (or CNER_API_KEY).")
@click.option("--project", help="projectName the target serves [default: the sample's].")
@click.option("--deployment", help="deploymentName requests name [default: production].")
@click.option("--exported-model", help="exportedModelName for --image [default: the sample's].")
@click.option("--cpus", type=click.FloatRange(0.1, 64), help="--image CPU limit [default: 1].")
@click.option("--memory", help="--image memory limit [default: 4g].")
@click.option(
    "--openapi",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True),
    help="Also validate job answers against this official analyzetext.json (repeatable).",
)
@click.option("--parity-target", metavar="URL", help="A second container: diff the parity scenarios.")
@click.option(
    "--out",
    default="conformance-report",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where junit.xml, report.json, report.md and report.html go.",
)
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def conform(out: Path, openapi: tuple[str, ...], pytest_args: tuple[str, ...], **options: str | float | None) -> None:
    """Judge a Custom NER container clause by clause (our container in process mode if neither --target nor
    --image is given); extra arguments go to pytest (e.g. -k jobs, -x). Exit status 1 if a clause fails."""
    if options["target"] and options["image_ref"]:
        raise click.UsageError("give --target URL or --image IMAGE, not both")
    try:
        from conformance.run import run_suite
    except ImportError as exc:
        raise click.ClickException(
            f"the conformance suite needs its extras ({exc.name} is missing): pip install 'cner-emulator[conformance]'"
        ) from exc
    names = {"image_ref": "image"}
    flags = [
        f"--{names.get(name, name).replace('_', '-')}={value}" for name, value in options.items() if value is not None
    ] + [f"--openapi={path}" for path in openapi]
    status = run_suite(out, flags, pytest_args)
    if (out / "report.md").is_file():
        click.echo(f"report: {out / 'report.md'} (also report.html, report.json, junit.xml)", err=True)
    sys.exit(status)


@main.group()
def image() -> None:
    """The container image, built from this checkout without any registry."""


def _image(*, base: str | None = None, tag: str | None = None, rebuild: bool) -> str:
    return build_image(
        docker_client(),
        project_root=repo_root(),
        base=base,
        tag=tag,
        say=lambda line: click.echo(f"[image] {line}", err=True),
        rebuild=rebuild,
    )


@image.command("build")
@click.option("--base", help="Base image [default: python:3.11-slim-bookworm, else one made here with debootstrap].")
@click.option("--tag", help=f"Image reference [default: {IMAGE_REPOSITORY}:<version>, also tagged latest].")
@click.option("--rebuild", is_flag=True, help="Build even if an image of the same sources exists.")
def image_build(base: str | None, tag: str | None, rebuild: bool) -> None:
    """Build our container image offline: wheels built here, no network inside the build; prints its reference."""
    click.echo(_image(base=base, tag=tag, rebuild=rebuild))


def _serve(config: CloudConfig, host: str, port: int) -> None:
    app = create_app(config)

    def announce(url: str) -> None:
        click.echo(f"[cloud] emulated Language resource ({config.tier}) at {url}, data in {config.data_dir}", err=True)

    try:
        serve(app, host, port, announce)
    finally:
        close_app(app)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5100, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--data-dir",
    default=".cner/cloud",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where projects, models, jobs and usage records persist (SQLite + files).",
)
@click.option(
    "--api-key",
    "api_keys",
    multiple=True,
    required=True,
    envvar="CNER_API_KEYS",
    help="A key of the resource (repeat for key 2); or CNER_API_KEYS, space-separated. Never logged.",
)
@click.option("--tier", type=click.Choice(TIERS), default="S", show_default=True, help="F0: 5,000 text records/month.")
@click.option(
    "--retry-after",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.01, 60),
    help="Seconds a poll of a running job is told to wait.",
)
def cloud(host: str, port: int, data_dir: Path, api_keys: tuple[str, ...], tier: str, retry_after: float) -> None:
    """Serve the emulated Azure Language resource: authoring, model export, billing and the control plane."""
    try:
        config = CloudConfig(data_dir, api_keys, tier=tier, retry_after=retry_after)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    _serve(config, host, port)
