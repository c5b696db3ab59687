"""Prediction: text in, entities (code-point spans with confidences) out.

The model is crfsuite's file, but prediction does not go through crfsuite's tagger: handing it attribute
strings costs more than everything else a prediction does. The weights are read from the file
(``crf_weights``), summed per token (``emissions``) and decoded (``decoding``) the way the tagger decodes;
tests hold the result to the tagger's. The confidence of an entity is the smallest marginal probability
among the tags of its tokens: the entity is right only if every one of its tokens is, so no token may be
less certain than the entity claims to be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .crf_weights import read_crf
from .emissions import EmissionScorer
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
        weights = read_crf(crf)
        allowed = {OUTSIDE} | {INSIDE + c for c in categories}
        unknown = set(weights.labels) - allowed
        if unknown:
            raise ArtifactError(
                f"the CRF model predicts tags {sorted(unknown)} that the manifest's categories do "
                "not declare; the artifact was assembled from different models"
            )
        self._categories = [label.removeprefix(INSIDE) for label in weights.labels]
        self._outside = weights.labels.index(OUTSIDE) if OUTSIDE in weights.labels else -1
        self._transitions = weights.transitions
        # Imported here, not at the top: numba takes ~0.7 s to import, which every tool that reads projects
        # or sends load (``cner load``'s Locust processes) would pay without ever predicting.
        from . import decoding

        self._viterbi, self._marginals = decoding.viterbi, decoding.marginals
        known = frozenset(name.decode(errors="replace") for name in weights.state)
        self._scorer = EmissionScorer(Featurizer(known=known), weights)

    def recognize(self, text: str) -> list[Entity]:
        """Entities of ``text`` in reading order, offsets in code points."""
        tokens = tokenize(text)
        if not len(tokens) or not self._categories:
            return []
        scores = self._scorer.scores(text, tokens)
        tags = self._viterbi(scores, self._transitions)
        # Runs of one tag: an entity per run of a tag other than O.
        changes = np.flatnonzero(np.diff(tags)) + 1
        starts = np.concatenate(([0], changes))
        ends = np.concatenate((changes, [len(tags)]))
        run_tags = tags[starts]
        entity = run_tags != self._outside
        if not entity.any():
            return []
        chosen = self._marginals(scores, self._transitions)[np.arange(len(tags)), tags]
        confidences = np.clip(np.minimum.reduceat(chosen, starts)[entity], 0.0, 1.0)
        entities = []
        for i, j, tag, confidence in zip(
            starts[entity].tolist(), ends[entity].tolist(), run_tags[entity].tolist(), confidences.tolist(), strict=True
        ):
            start, end = tokens.starts[i], tokens.ends[j - 1]
            entities.append(Entity(self._categories[tag], start, end, text[start:end], confidence))
        return entities


def entities_json(index: TextIndex, entities: Sequence[Entity], unit: StringIndexType) -> list[dict[str, object]]:
    """Entities of ``index.text`` as the prediction API returns them, offsets converted to ``unit``, confidence to
    2 decimals. The caller passes the text's index, which may already know its clusters (the container counted
    the text's characters with it when the request came in)."""
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
