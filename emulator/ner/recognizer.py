"""Prediction: text in, entities (code-point spans with confidences) out.

A crfsuite tagger holds per-sequence state between ``set`` and ``marginal``, so one tagger cannot serve
two threads; each thread opens its own from the same model bytes. The confidence of an entity is the
smallest CRF marginal probability among the tags of its tokens: the entity is right only if every one of
its tokens is, so no token may be less certain than the entity claims to be.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import pycrfsuite

from .errors import ArtifactError
from .features import Featurizer
from .offsets import StringIndexType, TextIndex
from .tokens import tokenize
from .training import INSIDE, OUTSIDE


@dataclass(frozen=True, slots=True)
class Entity:
    """A recognized entity: ``text == document[start:end]`` (code points), confidence in [0, 1]."""

    category: str
    start: int
    end: int
    text: str
    confidence: float


class Recognizer:
    """Recognizes the entities of one trained CRF model; safe to share between threads."""

    def __init__(self, crf: bytes, categories: Sequence[str]) -> None:
        self._crf = crf
        self._local = threading.local()
        allowed = {OUTSIDE} | {INSIDE + c for c in categories}
        tagger = self._tagger()
        unknown = set(tagger.labels()) - allowed
        if unknown:
            raise ArtifactError(
                f"the CRF model predicts tags {sorted(unknown)} that the manifest's categories do "
                "not declare; the artifact was assembled from different models"
            )
        self._featurizer = Featurizer(known=frozenset(attr for attr, _ in tagger.info().state_features))

    def _tagger(self) -> pycrfsuite.Tagger:
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            tagger = pycrfsuite.Tagger()
            try:
                tagger.open_inmemory(self._crf)
            except ValueError as exc:
                raise ArtifactError(f"the CRF model file is not a valid crfsuite model: {exc}") from exc
            self._local.tagger = tagger
        return tagger

    def recognize(self, text: str) -> list[Entity]:
        """Entities of ``text`` in reading order, offsets in code points."""
        tokens = tokenize(text)
        if not len(tokens):
            return []
        tagger = self._tagger()
        tagger.set(pycrfsuite.ItemSequence(self._featurizer.items(text, tokens)))
        tags = tagger.tag()
        entities: list[Entity] = []
        i, n = 0, len(tags)
        while i < n:
            tag = tags[i]
            if tag == OUTSIDE:
                i += 1
                continue
            j = i + 1
            while j < n and tags[j] == tag:
                j += 1
            confidence = min(tagger.marginal(tag, k) for k in range(i, j))
            start, end = tokens.starts[i], tokens.ends[j - 1]
            category = tag[len(INSIDE) :]
            entities.append(Entity(category, start, end, text[start:end], max(0.0, min(1.0, confidence))))
            i = j
        return entities


def entities_json(text: str, entities: Sequence[Entity], unit: StringIndexType) -> list[dict[str, object]]:
    """Entities as the prediction API returns them, offsets converted to ``unit``, confidence to 2 decimals."""
    index = TextIndex(text)
    result: list[dict[str, object]] = []
    for entity in entities:
        offset, length, span_text = index.span(unit, entity.start, entity.end)
        result.append(
            {
                "text": span_text,
                "category": entity.category,
                "offset": offset,
                "length": length,
                "confidenceScore": round(entity.confidence, 2),
            }
        )
    return result
