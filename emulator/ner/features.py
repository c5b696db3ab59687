"""Token and layout features for the CRF (the recipe measured in ner-engine.md).

Token features describe a word and its ±2 neighbours (form, shape, affixes, case). Layout features are
what separate look-alike entities in documents: on a loan agreement "Borrower" and "Lender" names look
the same locally, but the line they sit on and the words on that line differ (ner-engine.md: token
windows alone reach micro-F1 0.71 on the loan sample, with line features 1.00). Two changes to the
recipe, both measured with benchmarks/engine.py: the line's words enter with weight 1 rather than 0.5,
so items are plain lists, which crfsuite converts far faster than weighted dictionaries, at no cost in
F1; and the bag holds the first 30 distinct words rather than 40, fewer features on long lines for the
same F1 on the loan sample (0.973) and WNUT-17 (0.167 against 0.165).

Feature extraction, not the CRF, dominates prediction time, so: everything that depends only on a word
is computed once per distinct word and cached; features are UTF-8 ``bytes``, which pycrfsuite takes
without re-encoding; and a featurizer built for a trained model drops the attributes that model does
not know, before they are ever combined into items.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import operator
from collections.abc import Callable
from dataclasses import dataclass

import regex

from .tokens import Tokens

FEATURE_SET = "token-layout/1"
"""Recorded in every model manifest; a model trained with other features must not be served with these."""

MAX_LINE_BAG = 30
MAX_LINE_INDEX = 30
_WINDOW = (-2, -1, 1, 2)
_CACHE_LIMIT = 200_000
_SHAPE_UPPER = regex.compile(r"\p{Lu}+")
_SHAPE_LOWER = regex.compile(r"[\p{Ll}\p{Lo}\p{Lm}\p{Lt}\p{M}]+")
_SHAPE_DIGIT = regex.compile(r"\d+")
_BAG_WORD = regex.compile(r"[^\W\d_]{3,}")

Item = list[bytes]
Keep = Callable[[list[str]], list[bytes]]


def _shape(word: str) -> str:
    """Compressed word shape: ``Parker`` -> ``Xx``, ``6/29/2018`` -> ``d/d/d``, ``USD`` -> ``X``."""
    shape = _SHAPE_DIGIT.sub("d", word)
    shape = _SHAPE_UPPER.sub("X", shape)
    return _SHAPE_LOWER.sub("x", shape)


class WordFeatures:
    """Everything about one distinct word: its own features and what it contributes to its neighbours."""

    __slots__ = ("bag_word", "lower", "own", "window")

    def __init__(self, word: str, keep: Keep) -> None:
        lower = word.lower()
        shape = _shape(word)
        title = word.istitle()
        own = [
            "b",
            "w=" + lower,
            "p3=" + lower[:3],
            "s2=" + lower[-2:],
            "s3=" + lower[-3:],
            "sh=" + shape,
            "len=" + str(min(len(word), 10)),
        ]
        if word.isupper():
            own.append("up")
        if title:
            own.append("ti")
        if word.isdigit():
            own.append("dg")
        if word.isalpha():
            own.append("al")
        self.own = keep(own)
        self.lower = lower.encode()
        self.window = tuple(
            keep([f"{j}w={lower}", f"{j}sh={shape}", f"{j}s3={lower[-3:]}", *([f"{j}ti"] if title else [])])
            for j in _WINDOW
        )
        # The bag's word cap counts every word, known to the model or not, so filtering changes nothing.
        self.bag_word = ("lw=" + lower).encode() if _BAG_WORD.fullmatch(word) else None


@dataclass(frozen=True, slots=True)
class Layout:
    """The parts of one sequence's items: per token its word and line, per line its bag of words, and the known
    bigrams with the token each belongs to (in token order).

    Training joins them into attribute lists (``Featurizer.items``); prediction adds up their weights
    (``emissions``), which is the same sum without ever building the lists.
    """

    infos: list[WordFeatures]
    lines: list[int]
    line_starts: list[int]
    """The index of the first token of each line that has tokens, in order."""
    bags: list[list[bytes]]
    """Each line's bag, in the order of ``line_starts``."""
    bigrams: list[tuple[int, bytes]]


class Featurizer:
    """Turns tokens into CRF items, optionally keeping only the attributes a trained model knows.

    A model trained with L1 regularisation keeps a few hundred of the hundreds of thousands of attributes
    seen in training; features it does not know cost time to build, to convert and to look up, and change
    nothing in the result. Passing ``known`` (the model's attributes) drops them as early as possible:
    per distinct word once, thanks to the cache.
    """

    def __init__(self, known: frozenset[str] | None = None) -> None:
        self._known = None if known is None else frozenset(a.encode() for a in known)
        self._cache: dict[str, WordFeatures] = {}
        self.pads = tuple(self._keep([f"{j}w=<pad>"]) for j in _WINDOW)
        """What a missing neighbour at -2, -1, +1, +2 contributes (the sequence's edges)."""
        self.line_features = [self._keep(["ln=" + str(k)]) for k in range(MAX_LINE_INDEX + 1)]
        """The features of a token on line k (lines past ``MAX_LINE_INDEX`` share the last)."""
        self.newline = self._keep(["nl"])
        """The features of the first token of a line."""
        # Which words can be the right (left) half of a known bigram: skips building bigrams that cannot match.
        self._after_words = _bigram_halves(self._known, b"-1b=", right=True)
        self._before_words = _bigram_halves(self._known, b"+1b=", right=False)

    def _keep(self, names: list[str]) -> list[bytes]:
        encoded = [n.encode() for n in names]
        known = self._known
        return encoded if known is None else [n for n in encoded if n in known]

    def _word(self, word: str) -> WordFeatures:
        info = self._cache.get(word)
        if info is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            info = self._cache[word] = WordFeatures(word, self._keep)
        return info

    def layout(self, text: str, tokens: Tokens, start: int = 0) -> Layout:
        """What the items of ``tokens`` (cut from ``text`` at ``start``) are made of, before they are joined."""
        cache = self._cache
        infos = [cache.get(w) or self._word(w) for w in tokens.words]
        lines = _lines(text, tokens, start)
        line_starts = [0, *(k for k in range(1, len(lines)) if lines[k] != lines[k - 1])] if lines else []
        words = [x.bag_word for x in infos]
        ends = [*line_starts[1:], len(lines)]
        bags = [self._bag(words[first:end]) for first, end in zip(line_starts, ends, strict=True)]
        return Layout(infos, lines, line_starts, bags, self._bigrams([x.lower for x in infos]))

    def _bag(self, line_words: list[bytes | None]) -> list[bytes]:
        """The first 30 distinct words of three or more letters on a line (those the model knows), from the
        tokens' ``bag_word`` (None for the others)."""
        words = dict.fromkeys(line_words)
        words.pop(None, None)
        bag: list[bytes] = list(itertools.islice(words, MAX_LINE_BAG))  # type: ignore[arg-type]
        known = self._known
        return bag if known is None else [w for w in bag if w in known]

    def _bigrams(self, lowers: list[bytes]) -> list[tuple[int, bytes]]:
        """The bigram attributes of each token with its left (``-1b``) and right (``+1b``) neighbour, known ones
        only; only tokens whose word is half of a known bigram are tried."""
        known, after, before = self._known, self._after_words, self._before_words
        n = len(lowers)
        found: list[tuple[int, bytes]] = []
        for t in range(n) if after is None else [t for t, low in enumerate(lowers) if low in after]:
            found.append((t, b"-1b=" + (lowers[t - 1] if t else b"<s>") + b"|" + lowers[t]))
        for t in range(n) if before is None else [t for t, low in enumerate(lowers) if low in before]:
            found.append((t, b"+1b=" + lowers[t] + b"|" + (lowers[t + 1] if t + 1 < n else b"</s>")))
        if known is not None:
            found = [pair for pair in found if pair[1] in known]
        found.sort(key=operator.itemgetter(0))  # stable: a token's -1b before its +1b, as training saw them
        return found

    def items(self, text: str, tokens: Tokens, start: int = 0) -> list[Item]:
        """One feature list per token of ``tokens``, which were cut from ``text`` starting at ``start``."""
        if not len(tokens):
            return []
        layout = self.layout(text, tokens, start)
        infos = layout.infos
        line_feats, newline = self.line_features, self.newline
        # What the neighbours at -2, -1, +1, +2 contribute, aligned with the tokens (padding at the edges).
        pad_m2, pad_m1, pad_p1, pad_p2 = self.pads
        minus2 = [pad_m2, pad_m2, *(x.window[0] for x in infos)]
        minus1 = [pad_m1, *(x.window[1] for x in infos)]
        plus1 = [x.window[2] for x in infos[1:]] + [pad_p1]
        plus2 = [x.window[3] for x in infos[2:]] + [pad_p2, pad_p2]
        bags = dict(zip(layout.line_starts, layout.bags, strict=True))
        items: list[Item] = []
        bag: list[bytes] = []
        for t, (info, line, a, b, c, d) in enumerate(
            zip(infos, layout.lines, minus2, minus1, plus1, plus2, strict=False)
        ):
            first = t in bags
            if first:
                bag = bags[t]
            feats = [*info.own, *line_feats[min(line, MAX_LINE_INDEX)], *a, *b, *c, *d, *bag]
            if first:
                feats += newline
            items.append(feats)
        for t, bigram in layout.bigrams:
            items[t].append(bigram)
        return items


def _lines(text: str, tokens: Tokens, start: int) -> list[int]:
    """Line index of every token, counted from ``start`` (the region start)."""
    stop = tokens.ends[-1] if tokens.ends else start
    newlines = []
    at = text.find("\n", start, stop)
    while at >= 0:  # str.find, not a regex scan: a few calls in C instead of a match object per line
        newlines.append(at)
        at = text.find("\n", at + 1, stop)
    return list(map(functools.partial(bisect.bisect_left, newlines), tokens.starts))


def _bigram_halves(known: frozenset[bytes] | None, prefix: bytes, *, right: bool) -> frozenset[bytes] | None:
    """Every string that may be the right (or left) word of a known bigram attribute with ``prefix``.

    Words may themselves be ``|``, so every split point of the attribute is taken: a superset is safe.
    """
    if known is None:
        return None
    halves: set[bytes] = set()
    for attr in known:
        if attr.startswith(prefix):
            body = attr[len(prefix) :]
            for i in range(len(body)):
                if body[i : i + 1] == b"|":
                    halves.add(body[i + 1 :] if right else body[:i])
    return frozenset(halves)
