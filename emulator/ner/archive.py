"""The single-file form of a model artifact (a gzip'd tar) and its safe extraction.

Archives cross trust boundaries (downloaded by a container, uploaded by a user), so extraction never
calls ``tarfile.extract``: every member must be a regular file with a plain name, within size limits,
and is written by us to a path we build from that name. The result is verified like any artifact before
it is renamed into place. Writing is reproducible: fixed order, times, owners and modes, so the same
model gives the same archive bytes.
"""

from __future__ import annotations

import gzip
import io
import re
import shutil
import tarfile
import zlib
from pathlib import Path

from .artifact import MANIFEST_NAME, Model, load_model, staged_directory
from .errors import ArtifactError

MAX_MEMBERS = 16
MAX_TOTAL_BYTES = 1 << 30
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_CHUNK = 1 << 16


def write_archive(model_dir: str | Path, archive: str | Path) -> Path:
    """Pack the verified artifact in ``model_dir`` into ``archive`` (``.tar.gz``)."""
    root = Path(model_dir)
    load_model(root)
    names = sorted(p.name for p in root.iterdir())
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w") as tar:
        for name in [MANIFEST_NAME, *[n for n in names if n != MANIFEST_NAME]]:
            data = (root / name).read_bytes()
            member = tarfile.TarInfo(name)
            member.size, member.mode, member.mtime = len(data), 0o644, 0
            tar.addfile(member, io.BytesIO(data))
    target = Path(archive)
    target.write_bytes(buffer.getvalue())
    return target


def extract_archive(archive: str | Path, model_dir: str | Path) -> Model:
    """Unpack ``archive`` into ``model_dir`` (replacing what is there) after verifying it; returns the model.

    :raises ArtifactError: the archive is damaged, unsafe, or does not hold a valid artifact.
    """
    with staged_directory(Path(model_dir)) as staging:
        _unpack(Path(archive), staging)
        model = load_model(staging)
    return model


def _unpack(archive: Path, dest: Path) -> None:
    total = 0
    seen: set[str] = set()
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            for count, member in enumerate(tar, start=1):
                if count > MAX_MEMBERS:
                    raise ArtifactError(f"{archive} has more than {MAX_MEMBERS} entries; it is not a model archive")
                if not member.isfile():
                    raise ArtifactError(
                        f"{archive}: entry {member.name!r} is not a regular file (links, folders "
                        "and devices are refused)"
                    )
                if not _PLAIN_NAME.fullmatch(member.name) or member.name in seen:
                    raise ArtifactError(f"{archive}: entry name {member.name!r} is not a plain, unique file name")
                seen.add(member.name)
                total += member.size
                if total > MAX_TOTAL_BYTES:
                    raise ArtifactError(f"{archive} unpacks to more than {MAX_TOTAL_BYTES} bytes; refused")
                source = tar.extractfile(member)
                if source is None:  # pragma: no cover - isfile() members always have data
                    raise ArtifactError(f"{archive}: entry {member.name!r} has no data")
                with source, (dest / member.name).open("xb") as out:
                    shutil.copyfileobj(source, out, _CHUNK)
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as exc:
        raise ArtifactError(f"{archive} is not a readable model archive ({exc}); it may be truncated") from exc
    except FileNotFoundError as exc:
        raise ArtifactError(f"no model archive at {archive}") from exc
