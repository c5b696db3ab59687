"""State scores: for every token and label, the sum of the weights of the token's attributes.

This is the sum crfsuite forms from attribute lists (``Featurizer.items``), without building the lists.
Most of a token's attributes depend on one word only: its own features and what it tells its neighbours
at -2, -1, +1, +2. Their weights are summed once per distinct word into a row of a table, so a token costs
five table lookups (done for the whole document at once by numpy), plus its line's features, its line's
bag of words (summed once per line) and its known bigrams.

The table is per thread (a recognizer is shared between threads, and the rows are appended as words come)
and starts over when it reaches ``MAX_WORDS`` rows, so memory stays bounded on any stream of texts.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

from .crf_weights import CrfWeights
from .features import MAX_LINE_INDEX, Featurizer, WordFeatures
from .tokens import Tokens

MAX_WORDS = 32_768
"""Rows of one thread's word table before it starts over: 32,768 x 5 x labels doubles (16 MB at 12 labels)."""

Vector = npt.NDArray[np.float64]


class _WordTable:
    """Row 0 is the padding beyond the sequence's edges; every distinct word seen gets a row after it:
    ``[own, as -2 neighbour, as -1, as +1, as +2]``, each a vector over the labels."""

    def __init__(self, padding: Vector) -> None:
        self.rows: dict[str, int] = {}
        self.table = np.empty((1024, *padding.shape))
        self.table[0] = padding
        self.size = 1


class EmissionScorer:
    """The state scores of a model's labels for the tokens of a text."""

    def __init__(self, featurizer: Featurizer, weights: CrfWeights) -> None:
        self._featurizer = featurizer
        self._state = weights.state
        self._zero = np.zeros(len(weights.labels))
        self._columns = {name: k for k, name in enumerate(weights.state)}
        self._matrix = np.array(list(weights.state.values())).reshape(len(weights.state), len(self._zero))
        self._lines = np.array([self._sum(f) for f in featurizer.line_features])
        self._newline = self._sum(featurizer.newline)
        self._padding = np.array([self._zero, *(self._sum(p) for p in featurizer.pads)])
        self._local = threading.local()

    def _sum(self, attributes: Iterable[bytes]) -> Vector:
        zero = self._zero
        total = zero.copy()
        for name in attributes:
            total += self._state.get(name, zero)
        return total

    def _table(self, words: int) -> _WordTable:
        """This thread's table, started over if ``words`` new rows might not fit under ``MAX_WORDS``."""
        table: _WordTable | None = getattr(self._local, "table", None)
        if table is None or table.size + words > MAX_WORDS:
            table = self._local.table = _WordTable(self._padding)
        return table

    def _add(self, table: _WordTable, word: str, info: WordFeatures) -> int:
        if table.size == len(table.table):
            table.table = np.concatenate([table.table, np.empty_like(table.table)])
        row = table.size
        table.table[row] = [self._sum(info.own), *(self._sum(w) for w in info.window)]
        table.rows[word] = row
        table.size += 1
        return row

    def scores(self, text: str, tokens: Tokens) -> Vector:
        """``scores[t, j]``: label j at token t (``tokens`` not empty)."""
        layout = self._featurizer.layout(text, tokens)
        table = self._table(len(tokens))
        rows = table.rows
        ids = [rows.get(w) or self._add(table, w, info) for w, info in zip(tokens.words, layout.infos, strict=True)]
        padded = np.array([0, 0, *ids, 0, 0])
        t = table.table
        scores: Vector = (
            t[padded[2:-2], 0] + t[padded[:-4], 1] + t[padded[1:-3], 2] + t[padded[3:-1], 3] + t[padded[4:], 4]
        )
        # Per line: its bag and its line feature, the same for every token on it; the newline feature on its first.
        starts = layout.line_starts
        lines = np.array(layout.lines)[starts]
        per_line = self._bag_sums(layout.bags) + self._lines[np.minimum(lines, MAX_LINE_INDEX)]
        first = np.zeros(len(ids), dtype=np.intp)
        first[starts[1:]] = 1
        scores += per_line[np.cumsum(first)]
        scores[starts] += self._newline
        if layout.bigrams:
            at, names = zip(*layout.bigrams, strict=True)
            np.add.at(scores, list(at), self._matrix[[self._columns[name] for name in names]])
        return scores

    def _bag_sums(self, bags: list[list[bytes]]) -> Vector:
        """The summed weights of each bag."""
        columns = self._columns
        sums = np.zeros((len(bags), len(self._zero)))
        at = [k for k, bag in enumerate(bags) for _ in bag]
        np.add.at(sums, at, self._matrix[[columns[word] for bag in bags for word in bag]])
        return sums
