"""Our container as a Docker image, built on a machine that reaches no container registry.

Only PyPI (or its mirror) and a Debian mirror are assumed reachable, so nothing here depends on a registry:

* the base is ``python:3.11-slim-bookworm`` when it is on this machine or can be pulled, else
  ``cner-base:bookworm``: Debian bookworm minbase made here by debootstrap from the Debian mirror apt uses and
  imported into Docker (``tar | docker import``);
* the project and its runtime dependencies become wheels on this machine (``pip wheel``, the running
  interpreter), which the image installs with ``pip --no-index``; the build runs with no network at all, so
  an image that builds here builds anywhere the base exists;
* the image carries ``cner.source-hash``, a digest of everything that went into it, so building an unchanged
  checkout again reuses the image instead of spending a minute rebuilding it.

``docker/Dockerfile`` is the image's recipe; this module assembles its context and drives the engine.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import docker
import docker.errors
from docker.models.images import Image

DEFAULT_BASE = "python:3.11-slim-bookworm"
LOCAL_BASE = "cner-base:bookworm"
"""What we build with debootstrap when ``DEFAULT_BASE`` cannot be had."""
IMAGE_REPOSITORY = "cner-customner"
"""Our image's repository; its tags are the package version and ``latest``."""
SOURCE_HASH_LABEL = "cner.source-hash"

REGISTRY_TIMEOUT = 15
"""Seconds to wait for the engine to tell whether a registry has an image. A registry that answers does so in
well under a second; one behind a firewall that drops packets would otherwise hold us for the engine's own
dial timeout, and docker-py pulls with no timeout at all."""
DEBIAN_SUITE = "bookworm"
DEBIAN_PACKAGES = ("python3", "python3-venv", "ca-certificates")
"""python3-venv: Debian's python3 has no ensurepip without it, and the Dockerfile makes a venv."""
DEFAULT_MIRROR = "http://deb.debian.org/debian"
DEBIAN_SOURCES = Path("/etc/apt/sources.list.d/debian.sources")
SEARCH_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
WHEEL_EPOCH = "315532800"
"""SOURCE_DATE_EPOCH for building our wheel (1980-01-01, the earliest date a zip entry can carry): without
it the wheel's entries are dated at build time, every build differs and the source hash never repeats."""
TAIL_LINES = 12

Say = Callable[[str], None]


class ImageError(RuntimeError):
    """The image or its base could not be had; the message is one line naming the problem and the fix."""


def repo_root() -> Path:
    """The checkout this module runs from: the image is built from sources (``docker/``, ``pyproject.toml``),
    which an installed package does not carry."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "docker" / "Dockerfile").is_file() or not (root / "pyproject.toml").is_file():
        raise ImageError(
            f"building the image needs the cner-emulator sources (docker/Dockerfile, pyproject.toml), not found "
            f"in {root}: run cner from a checkout installed with `pip install -e .`"
        )
    return root


# The base image ---------------------------------------------------------------------------------------------


def base_image(client: docker.DockerClient, base: str | None, say: Say) -> str:
    """The base to build on, pulled or built if need be.

    ``base`` given: it must be on this machine or pullable (``LOCAL_BASE`` is built when missing).
    ``base`` None: ``DEFAULT_BASE`` if present or pullable, else ``LOCAL_BASE``, built by debootstrap if
    missing. Where no registry answers, finding that out takes milliseconds (the engine fails the lookup) and
    at most ``REGISTRY_TIMEOUT`` seconds.
    """
    if base is not None:
        if _present(client, base):
            return base
        if base == LOCAL_BASE:
            return build_local_base(client, say)
        reason = _try_pull(client, base, say)
        if reason is None:
            return base
        raise ImageError(
            f"base image {base} is not on this machine and cannot be pulled ({reason}): `docker load` it, or "
            f"leave the base out to use {DEFAULT_BASE} or build {LOCAL_BASE}"
        )
    if _present(client, DEFAULT_BASE) or _try_pull(client, DEFAULT_BASE, say) is None:
        return DEFAULT_BASE
    if _present(client, LOCAL_BASE):
        say(f"using {LOCAL_BASE}, built earlier with debootstrap")
        return LOCAL_BASE
    return build_local_base(client, say)


def _present(client: docker.DockerClient, ref: str) -> bool:
    try:
        client.images.get(ref)
    except docker.errors.ImageNotFound:
        return False
    except docker.errors.APIError as exc:  # a malformed reference is a 400
        raise ImageError(f"{ref} is not an image reference ({_explain(exc)}): give one as `name[:tag]`") from exc
    return True


def _try_pull(client: docker.DockerClient, ref: str, say: Say) -> str | None:
    """Pull ``ref``; None when done, else why not.

    The registry is asked first whether it has the image (``/distribution``, a small request under
    ``REGISTRY_TIMEOUT``): the pull itself has no timeout in docker-py, rightly since a download takes as long
    as it takes, so it would hang on an unreachable registry.
    """
    started = time.monotonic()
    try:
        with _request_timeout(client, REGISTRY_TIMEOUT):
            client.images.get_registry_data(ref)
    except (docker.errors.APIError, OSError) as exc:  # requests' errors (timeouts, refusals) are OSErrors
        reason = _explain(exc)
        say(f"{ref} cannot be pulled ({reason}; {time.monotonic() - started:.2f} s)")
        return reason
    say(f"pulling {ref}")
    try:
        for event in client.api.pull(ref, stream=True, decode=True):
            if "error" in event:
                return str(event["error"])
            if "id" not in event or event.get("status") == "Pull complete":
                say(f"  {event.get('id', '')} {event.get('status', '')}".rstrip())
    except (docker.errors.APIError, OSError) as exc:
        return _explain(exc)
    say(f"pulled {ref} in {time.monotonic() - started:.0f} s")
    return None


@contextlib.contextmanager
def _request_timeout(client: docker.DockerClient, seconds: int) -> Iterator[None]:
    """docker-py's high-level calls take no timeout: the client's applies to every request it sends."""
    saved = client.api.timeout
    client.api.timeout = seconds
    try:
        yield
    finally:
        client.api.timeout = saved


def _explain(exc: Exception) -> str:
    text = exc.explanation if isinstance(exc, docker.errors.APIError) and exc.explanation else str(exc)
    return " ".join(str(text).split())


def build_local_base(client: docker.DockerClient, say: Say) -> str:
    """Build ``LOCAL_BASE`` from the Debian mirror: debootstrap minbase with Python into a temporary folder,
    trimmed, then imported. Needs root (debootstrap chroots and makes device nodes) and debootstrap."""
    if os.geteuid() != 0:
        raise ImageError(
            f"{LOCAL_BASE} is not on this machine and building it with debootstrap needs root: run as root, or "
            f"`docker load` a Python 3.11 Debian image and pass it as the base"
        )
    if shutil.which("debootstrap") is None:
        raise ImageError(
            f"{LOCAL_BASE} is not on this machine and building it needs debootstrap: `apt-get install debootstrap`, "
            f"or `docker load` a Python 3.11 Debian image and pass it as the base"
        )
    mirror = debian_mirror()
    # /var/tmp rather than /tmp: /tmp may be a RAM-backed tmpfs, and the tree plus its archive are ~300 MB.
    scratch = "/var/tmp" if os.path.isdir("/var/tmp") else None  # noqa: S108 - a private mkdtemp below it
    with tempfile.TemporaryDirectory(prefix="cner-base.", dir=scratch) as tmp:
        rootfs, archive = Path(tmp) / "rootfs", Path(tmp) / "rootfs.tar"
        try:
            _debootstrap(rootfs, mirror, say)
            _trim(rootfs)
            _tar(rootfs, archive, say)
        finally:
            _unmount_below(rootfs)
        _import(client, archive, mirror, say)
    return LOCAL_BASE


def debian_mirror(sources: Path = DEBIAN_SOURCES) -> str:
    """The Debian mirror apt uses on this machine (its first enabled ``deb`` entry outside ``-security``): where
    registries are out of reach, deb.debian.org may be too, and apt's mirror is the one known to answer."""
    try:
        text = sources.read_text(encoding="utf-8")
    except OSError:
        return DEFAULT_MIRROR
    for stanza in re.split(r"\n[ \t]*\n", text):
        fields = _deb822(stanza)
        uris = fields.get("uris", "").split()
        suites = fields.get("suites", "").split()
        if (
            "deb" in fields.get("types", "").split()
            and fields.get("enabled", "yes").lower() != "no"
            and any(not suite.endswith("-security") for suite in suites)
            and uris
            and uris[0].startswith(("http://", "https://"))
        ):
            return uris[0].rstrip("/")
    return DEFAULT_MIRROR


def _deb822(stanza: str) -> dict[str, str]:
    """One stanza of a deb822 file as lower-case keys to values (continuation lines joined)."""
    fields: dict[str, str] = {}
    key = None
    for line in stanza.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if line[0] in " \t" and key is not None:
            fields[key] += " " + line.strip()
        elif ":" in line:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            fields[key] = value.strip()
    return fields


def _debootstrap(rootfs: Path, mirror: str, say: Say) -> None:
    started = time.monotonic()
    say(f"building {LOCAL_BASE}: debootstrap {DEBIAN_SUITE} minbase from {mirror} (a minute or two)")
    command = [
        "debootstrap",
        "--variant=minbase",
        f"--include={','.join(DEBIAN_PACKAGES)}",
        DEBIAN_SUITE,
        str(rootfs),
        mirror,
    ]
    _run(command, say, shown=_debootstrap_step, what="debootstrap", fix=f"check that {mirror} answers")
    say(f"debootstrap done in {time.monotonic() - started:.0f} s")


_PACKAGE_LINE = re.compile(r"I: ((Retrieving|Validating) \S+ \S+|(Extracting|Unpacking|Configuring) \S+\.\.\.)$")


def _debootstrap_step(line: str) -> bool:
    """Whether to show a debootstrap line: its phases ("Unpacking the base system..."), not its ~500
    per-package lines ("Retrieving libc6 2.36-9", "Unpacking libc6...")."""
    return _PACKAGE_LINE.match(line.strip()) is None


def _trim(rootfs: Path) -> None:
    """What a base image needs no copy of: apt's package lists and downloaded packages (~95 MB), manuals,
    translations and documentation (~50 MB; copyright files stay), and this machine's name and name server."""
    for pattern in (
        "var/lib/apt/lists/*",
        "var/cache/apt/*.bin",
        "var/cache/apt/archives/*.deb",
        "usr/share/man/*",
        "usr/share/info/*",
        "usr/share/locale/*/",
    ):
        for path in rootfs.glob(pattern):
            _remove(path)
    for path in (rootfs / "usr/share/doc").glob("*/*"):
        if path.name != "copyright":
            _remove(path)
    (rootfs / "etc/hostname").write_text("localhost\n", encoding="utf-8")
    (rootfs / "etc/resolv.conf").write_text("", encoding="utf-8")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _tar(rootfs: Path, archive: Path, say: Say) -> None:
    """The tree as ``docker import`` takes it: numeric owners, and no device nodes (the engine gives each
    container its own /dev, /proc and /sys)."""
    command = ["tar", "--create", f"--file={archive}", "--numeric-owner", f"--directory={rootfs}"]
    command += ["--exclude=./dev/*", "--exclude=./proc/*", "--exclude=./sys/*", "."]
    _run(command, say, what="tar of the debootstrap tree", fix="check the free space")


def _unmount_below(rootfs: Path) -> None:
    """Unmount whatever a failed debootstrap left mounted in the tree (/proc, /sys, /dev binds), so that
    deleting the tree cannot reach into the host's."""
    prefix = str(rootfs) + "/"
    with open("/proc/mounts", encoding="utf-8") as mounts:
        points = [line.split()[1] for line in mounts if line.split()[1].startswith(prefix)]
    for point in sorted(points, key=len, reverse=True):
        subprocess.run(["umount", "--lazy", point], check=False)  # noqa: S603, S607 - fixed command


def _import(client: docker.DockerClient, archive: Path, mirror: str, say: Say) -> None:
    started = time.monotonic()
    repository, tag = _split_ref(LOCAL_BASE)
    changes = [
        'CMD ["python3"]',
        f"ENV PATH={SEARCH_PATH}",
        "ENV LANG=C.UTF-8",
        f"LABEL cner.base=debootstrap-{DEBIAN_SUITE}-minbase cner.base.mirror={mirror}",
    ]
    try:
        client.api.import_image(src=str(archive), repository=repository, tag=tag, changes=changes)
    except docker.errors.APIError as exc:
        raise ImageError(f"docker import of {LOCAL_BASE} failed ({_explain(exc)}): check the engine's log") from exc
    size = client.images.get(LOCAL_BASE).attrs.get("Size", 0) / 1e6
    say(f"imported {LOCAL_BASE} ({size:.0f} MB) in {time.monotonic() - started:.0f} s")


# The wheels -------------------------------------------------------------------------------------------------


def project_wheels(project_root: Path, dest: Path, say: Say) -> list[Path]:
    """The project and all its runtime dependencies as wheels in ``dest``, made by the running interpreter's
    pip, so binary ones fit this interpreter (cp311, manylinux on this machine): the image's Python must be the
    same version, as both our bases' are.

    The project is built from a copy of its sources without caches, venvs and ``build/``: setuptools'
    in-tree ``build/lib`` keeps modules deleted since, which would end up in the image.
    """
    started = time.monotonic()
    dest.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cner-src.") as tmp:
        source = Path(tmp) / "src"
        shutil.copytree(project_root, source, ignore=_not_sources, symlinks=True)
        command = [sys.executable, "-m", "pip", "wheel", "--progress-bar", "off", "--wheel-dir", str(dest)]
        env = {**os.environ, "SOURCE_DATE_EPOCH": WHEEL_EPOCH, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
        _run([*command, str(source)], say, env=env, what="pip wheel", fix="check that PyPI (or pip's index) answers")
    wheels = sorted(dest.glob("*.whl"))
    say(f"{len(wheels)} wheels in {time.monotonic() - started:.1f} s")
    return wheels


_NOT_SOURCES = {"build", "dist", "__pycache__", "venv", "node_modules"}


def _not_sources(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n.startswith(".") or n in _NOT_SOURCES or n.endswith(".egg-info")}


def source_hash(wheels: Sequence[Path], docker_dir: Path, base_id: str) -> str:
    """SHA-256 over what an image is made of: the wheels (sorted names and contents), the files of ``docker/``
    (the Dockerfile, the health check) and the base image's id. Equal hashes, equal images: a changed
    Dockerfile or a newer base must rebuild as surely as changed code."""
    digest = hashlib.sha256()

    def add(name: str, data: bytes) -> None:
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)

    for wheel in sorted(wheels, key=lambda path: path.name):
        add(f"wheels/{wheel.name}", wheel.read_bytes())
    for path in _docker_files(docker_dir):
        add(f"docker/{path.name}", path.read_bytes())
    add("base", base_id.encode())
    return digest.hexdigest()


def _docker_files(docker_dir: Path) -> list[Path]:
    return sorted(path for path in docker_dir.iterdir() if path.is_file())


def _project_version(wheels: Sequence[Path]) -> str:
    """The version the image carries, from our wheel (what is installed, even if the checkout's metadata in
    this venv is stale), made a valid Docker tag (``+local`` parts have a ``-``)."""
    for wheel in wheels:
        if wheel.name.startswith("cner_emulator-"):
            return re.sub(r"[^A-Za-z0-9_.-]", "-", wheel.name.split("-")[1])
    raise ImageError("pip wheel made no cner_emulator wheel: check the project's pyproject.toml")


# The image --------------------------------------------------------------------------------------------------


def build_image(
    client: docker.DockerClient,
    *,
    project_root: Path,
    base: str | None = None,
    tag: str | None = None,
    say: Say = print,
    rebuild: bool = False,
) -> str:
    """Build our image (``IMAGE_REPOSITORY:<version>`` and ``:latest``, or ``tag`` alone) and return its
    reference; an image at that reference built from the same sources (``cner.source-hash``) is reused unless
    ``rebuild``. Wheels are made every time: they are what the hash is computed from."""
    base_ref = base_image(client, base, say)
    base_id = client.images.get(base_ref).id or ""
    docker_dir = project_root / "docker"
    with tempfile.TemporaryDirectory(prefix="cner-image.") as tmp:
        context = Path(tmp)
        wheels = project_wheels(project_root, context / "wheels", say)
        version = _project_version(wheels)
        digest = source_hash(wheels, docker_dir, base_id)
        refs = [tag] if tag else [f"{IMAGE_REPOSITORY}:{version}", f"{IMAGE_REPOSITORY}:latest"]
        previous = _image_or_none(client, refs[0])
        if previous is not None and previous.labels.get(SOURCE_HASH_LABEL) == digest and not rebuild:
            say(f"reusing {refs[0]} ({previous.short_id}): built from the same sources ({digest[:12]})")
            _tag(previous, refs)
            return refs[0]
        for path in _docker_files(docker_dir):
            shutil.copy2(path, context / path.name)
        buildargs = {
            "BASE_IMAGE": base_ref,
            "SOURCE_HASH": digest,
            "VERSION": version,
            "SOURCE_URL": _source_url(project_root),
        }
        image = _docker_build(client, context, refs[0], buildargs, say)
    _tag(image, refs)
    _remove_leftovers(client, digest, previous, say)
    return refs[0]


def _image_or_none(client: docker.DockerClient, ref: str) -> Image | None:
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def _remove_leftovers(client: docker.DockerClient, digest: str, previous: Image | None, say: Say) -> None:
    """Remove what a build leaves untagged: the venv stage's image (labelled with the hash) and the image the
    new one replaced, ~50 MB each that would pile up with every change of the sources. An image still tagged
    elsewhere or used by a container stays."""
    leftovers = client.images.list(filters={"label": f"cner.build-stage={digest}"})
    if previous is not None:
        leftovers.append(previous)
    for image in leftovers:
        try:
            image.reload()
            if not image.tags:
                client.images.remove(image.id or "")
                if image is previous:
                    say(f"removed the image it replaces ({image.short_id})")
        except docker.errors.APIError:  # gone already, or in use: left for `docker image prune`
            continue


def _docker_build(client: docker.DockerClient, context: Path, ref: str, buildargs: dict[str, str], say: Say) -> Image:
    """``docker build`` with no network (everything the image needs is in the context), its log through
    ``say``; intermediate containers are removed even when a step fails."""
    started = time.monotonic()
    say(f"docker build {ref} on {buildargs['BASE_IMAGE']}, no network")
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    image_id = None
    try:
        for chunk in client.api.build(
            path=str(context),
            tag=ref,
            buildargs=buildargs,
            network_mode="none",
            rm=True,
            forcerm=True,
            decode=True,
        ):
            for line in _ANSI.sub("", str(chunk.get("stream", ""))).splitlines():
                if line.strip():
                    tail.append(line.strip())
                    say(f"  {line.rstrip()}")
            if "error" in chunk:
                tail.append(" ".join(str(chunk["error"]).split()))
                raise ImageError(f"docker build of {ref} failed: {' | '.join(tail)}")
            aux = chunk.get("aux")
            if isinstance(aux, dict) and "ID" in aux:
                image_id = str(aux["ID"])
    except docker.errors.APIError as exc:
        raise ImageError(f"docker build of {ref} failed ({_explain(exc)}): {' | '.join(tail)}") from exc
    image = client.images.get(image_id or ref)
    size = image.attrs.get("Size", 0) / 1e6
    say(f"built {ref} ({image.short_id}, {size:.0f} MB) in {time.monotonic() - started:.0f} s")
    return image


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
"""The engine colours the build steps' stderr red."""


def _tag(image: Image, refs: Sequence[str]) -> None:
    for ref in refs:
        repository, tag = _split_ref(ref)
        image.tag(repository, tag)


def _split_ref(ref: str) -> tuple[str, str]:
    """``repo[:tag]`` into repository and tag (a registry's ``host:port/`` is not a tag)."""
    repository, colon, tag = ref.rpartition(":")
    if not colon or "/" in tag:
        return ref, "latest"
    return repository, tag


def _source_url(project_root: Path) -> str:
    """The label ``org.opencontainers.image.source``: the project's declared source URL, if it declares one."""
    try:
        metadata = tomllib.loads((project_root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return "unknown"
    urls = metadata.get("project", {}).get("urls", {})
    return next((str(urls[key]) for key in ("Source", "Repository", "Homepage") if key in urls), "unknown")


def _run(
    command: Sequence[str],
    say: Say,
    *,
    what: str,
    fix: str,
    env: dict[str, str] | None = None,
    shown: Callable[[str], bool] = lambda line: True,
) -> None:
    """Run a tool, its output lines through ``say`` (those ``shown``), an ImageError with its last lines if it
    fails."""
    tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
    try:
        process = subprocess.Popen(  # noqa: S603 - fixed tools, arguments as a list
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
    except OSError as exc:
        raise ImageError(f"{what} could not start ({exc}): {fix}") from exc
    with process:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.rstrip()
            if line:
                tail.append(line.strip())
                if shown(line):
                    say(f"  {line}")
    if process.returncode != 0:
        raise ImageError(f"{what} failed with status {process.returncode} ({' | '.join(tail)}): {fix}")
