"""The weights of a trained crfsuite model, read straight from its file.

Prediction adds up weights itself (``emissions``, ``decoding``) instead of asking crfsuite's tagger, whose
input conversion costs more than the whole decoding (an attribute string is copied and hashed per token:
about 1.5 ms of a 1,000-character document). ``Tagger.info()`` would give the weights too, but rounded to 6
decimals (it parses crfsuite's text dump); the file holds them as doubles, so they are read from there and
the decoded tags and marginals are crfsuite's own.

The file (crfsuite's ``crf1dm.c``, little-endian): a 48-byte header with the offsets of its chunks, a
``FEAT`` chunk of 20-byte features (type, source, destination, weight as a double; type 0 is attribute ->
label, type 1 label -> label), and two ``CQDB`` string databases (labels, attributes) whose backward array
maps each id to its name.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .errors import ArtifactError

_HEADER = struct.Struct("<4sI4s9I")
_CHUNK = struct.Struct("<4sII")
_FEATURE = struct.Struct("<IIId")
_CQDB = struct.Struct("<4s5I")
_STATE, _TRANSITION = 0, 1
MAX_LABELS = 1024
"""Far above any real model (Azure allows 200 entity categories, one label each plus O); a file claiming more
is damaged, and would otherwise make the transition table quadratically large."""


@dataclass(frozen=True)
class CrfWeights:
    """``state[attribute]`` holds the attribute's weight for each label, in ``labels`` order;
    ``transitions[i, j]`` the weight of label ``j`` following label ``i``."""

    labels: tuple[str, ...]
    state: dict[bytes, npt.NDArray[np.float64]]
    transitions: npt.NDArray[np.float64]


def _names(data: bytes, offset: int, count: int) -> list[bytes]:
    magic, _size, _flag, _order, stored, backward = _CQDB.unpack_from(data, offset)
    if magic != b"CQDB" or stored != count:
        raise ArtifactError(f"the CRF model's string table at byte {offset} is damaged")
    names = []
    for k in range(count):
        (record,) = struct.unpack_from("<I", data, offset + backward + 4 * k)
        ident, size = struct.unpack_from("<II", data, offset + record)
        name = data[offset + record + 8 : offset + record + 8 + size]
        if ident != k or not name.endswith(b"\0"):
            raise ArtifactError(f"the CRF model's string table at byte {offset} is damaged")
        names.append(name[:-1])
    return names


def read_crf(data: bytes) -> CrfWeights:
    """The weights of the crfsuite model file ``data``.

    :raises ArtifactError: ``data`` is not a complete crfsuite CRF1d model.
    """
    try:
        magic, size, kind, _version, _, n_labels, n_attrs, features_at, labels_at, attrs_at, *_ = _HEADER.unpack_from(
            data
        )
        if magic != b"lCRF" or kind != b"FOMC" or size != len(data) or n_labels > MAX_LABELS:
            raise ArtifactError("the CRF model file is not a valid crfsuite model (bad header or truncated)")
        labels = [name.decode() for name in _names(data, labels_at, n_labels)]
        attributes = _names(data, attrs_at, n_attrs)
        chunk, _, count = _CHUNK.unpack_from(data, features_at)
        if chunk != b"FEAT":
            raise ArtifactError("the CRF model file is not a valid crfsuite model (no feature chunk)")
        state: dict[bytes, npt.NDArray[np.float64]] = {}
        transitions = np.zeros((n_labels, n_labels))
        for kind_, source, target, weight in _FEATURE.iter_unpack(
            data[features_at + _CHUNK.size : features_at + _CHUNK.size + count * _FEATURE.size]
        ):
            if kind_ == _STATE:
                state.setdefault(attributes[source], np.zeros(n_labels))[target] = weight
            elif kind_ == _TRANSITION:
                transitions[source, target] = weight
            else:
                raise ArtifactError(f"the CRF model file has a feature of unknown type {kind_}")
    except (struct.error, IndexError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"the CRF model file is not a valid crfsuite model: {exc}") from exc
    return CrfWeights(tuple(labels), state, transitions)
