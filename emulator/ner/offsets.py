"""Offsets in the three units Azure speaks, converted from the one unit the engine keeps.

The engine works on Python ``str`` indices (Unicode code points) everywhere. Azure counts in other units:
project files and evaluation results in UTF-16 code units, and the prediction API in whatever
``stringIndexType`` the caller asks for (default ``TextElements_v8``, i.e. extended grapheme clusters as
.NET's ``StringInfo`` counts them). Converting only at the edge keeps one source of truth and makes the
conversions testable on their own.

``TextIndex`` builds its tables lazily and only for the units asked for: most documents are ASCII, where
UTF-16 is the identity and grapheme clusters differ from code points only at CRLF pairs, so the common
case costs one scan for ``\\r\\n``; other texts are scanned for clusters only around the characters
that can join a neighbour (``_windows``).
"""

from __future__ import annotations

import bisect
from enum import StrEnum
from functools import cached_property

import regex

_ASTRAL = regex.compile(r"[\U00010000-\U0010FFFF]")
_GRAPHEME = regex.compile(r"\X")
_CRLF = regex.compile(r"\r\n")
_SIMPLE_CLASS = r"\p{Grapheme_Cluster_Break=Other}\p{Grapheme_Cluster_Break=Control}\p{Grapheme_Cluster_Break=LF}"
_SIMPLE = regex.compile(f"[{_SIMPLE_CLASS}\\r]*+")
"""Texts whose only clusters of several code points are CR LF: every other character stands alone, and CR
joins nothing but a following LF (Unicode's GB3-GB5), so CRLF line ends need no cluster scan."""
_COMPLEX_RUN = regex.compile(f"[^{_SIMPLE_CLASS}\\r]++")


def _windows(text: str) -> list[tuple[int, int]]:
    """The stretches of ``text`` where clusters of several code points can be: each run of characters that
    can join a neighbour, widened by one character on each side (what an extending mark joins, or a prepended
    one precedes), touching stretches merged. Between them every character is a cluster of its own, so
    scanning only the stretches with ``\\X`` finds every longer cluster at a fraction of the cost of the
    whole text (most documents have a few accents, not a script of combining marks).
    """
    windows: list[tuple[int, int]] = []
    for run in _COMPLEX_RUN.finditer(text):
        start, end = max(0, run.start() - 1), min(len(text), run.end() + 1)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


class StringIndexType(StrEnum):
    """The ``stringIndexType`` values of the Azure Language APIs."""

    TEXT_ELEMENTS_V8 = "TextElements_v8"
    UNICODE_CODE_POINT = "UnicodeCodePoint"
    UTF16_CODE_UNIT = "Utf16CodeUnit"


class OffsetError(ValueError):
    """An offset lies outside the text or inside a character (half of a UTF-16 surrogate pair)."""


class TextIndex:
    """Converts offsets of one text between code points and the Azure units.

    >>> TextIndex("a😀b").to_unit(StringIndexType.UTF16_CODE_UNIT, 2, 3)
    (3, 1)
    """

    def __init__(self, text: str) -> None:
        self.text = text

    # -- UTF-16 ---------------------------------------------------------------------------------------------

    @cached_property
    def _astral(self) -> list[int]:
        """Code-point indices of characters outside the BMP (two UTF-16 code units each)."""
        return [m.start() for m in _ASTRAL.finditer(self.text)]

    @cached_property
    def _astral_utf16(self) -> list[int]:
        return [cp + k for k, cp in enumerate(self._astral)]

    def utf16_length(self) -> int:
        return len(self.text) + len(self._astral)

    def to_utf16(self, cp: int) -> int:
        """UTF-16 offset of code-point offset ``cp``."""
        return cp + bisect.bisect_left(self._astral, cp)

    def utf16_span(self, start: int, end: int) -> tuple[int, int]:
        """UTF-16 offset and length of the code-point span ``[start, end)`` (project files, evaluation results)."""
        offset = self.to_utf16(start)
        return offset, self.to_utf16(end) - offset

    def from_utf16(self, offset: int) -> int:
        """Code-point offset of UTF-16 offset ``offset``; refuses offsets past the end or inside a surrogate pair."""
        if not 0 <= offset <= self.utf16_length():
            raise OffsetError(f"offset {offset} is outside the text (0..{self.utf16_length()} UTF-16 code units)")
        before = bisect.bisect_left(self._astral_utf16, offset)
        if before and self._astral_utf16[before - 1] + 1 == offset:
            raise OffsetError(f"offset {offset} falls between the two UTF-16 code units of one character")
        return offset - before

    # -- text elements (extended grapheme clusters) ---------------------------------------------------------

    @cached_property
    def _clusters(self) -> tuple[list[int], list[int], list[int]]:
        """Starts and ends of every cluster longer than one code point, and the code points saved before each."""
        text = self.text
        spans = [(m.start(), m.end()) for m in _CRLF.finditer(text)]
        if not text.isascii() and not _SIMPLE.fullmatch(text):
            # A window may hold a CR LF pair too: the set keeps each cluster once.
            found = (m for start, end in _windows(text) for m in _GRAPHEME.finditer(text, start, end))
            spans = sorted({*spans, *((m.start(), m.end()) for m in found if m.end() - m.start() > 1)})
        starts = [s for s, _ in spans]
        ends = [e for _, e in spans]
        saved = [0]
        for s, e in spans:
            saved.append(saved[-1] + e - s - 1)
        return starts, ends, saved

    def _cluster_around(self, cp: int) -> int:
        """Index of the multi-code-point cluster strictly containing ``cp`` (not at its start), or -1."""
        starts, ends, _ = self._clusters
        k = bisect.bisect_left(starts, cp)
        return k - 1 if k and cp < ends[k - 1] else -1

    def snap_to_clusters(self, start: int, end: int) -> tuple[int, int]:
        """Widen a code-point span so it neither starts nor ends inside a grapheme cluster."""
        starts, ends, _ = self._clusters
        if not starts:
            return start, end
        k = self._cluster_around(start)
        if k >= 0:
            start = starts[k]
        k = self._cluster_around(end)
        if k >= 0:
            end = ends[k]
        return start, end

    def to_text_elements(self, cp: int) -> int:
        """Text-element offset of a code-point offset that lies on a cluster boundary."""
        starts, _, saved = self._clusters
        return cp - saved[bisect.bisect_left(starts, cp)]

    def text_elements_length(self) -> int:
        return self.to_text_elements(len(self.text))

    # -- the edge ---------------------------------------------------------------------------------------------

    def length(self, unit: StringIndexType) -> int:
        """Length of the whole text in ``unit``."""
        if unit is StringIndexType.UTF16_CODE_UNIT:
            return self.utf16_length()
        if unit is StringIndexType.TEXT_ELEMENTS_V8:
            return self.text_elements_length()
        return len(self.text)

    def span(self, unit: StringIndexType, start: int, end: int) -> tuple[int, int, str]:
        """Offset, length and text of the code-point span ``[start, end)`` in ``unit``.

        For text elements the span is first widened to whole grapheme clusters, so the returned text is
        always exactly the slice of the document that the returned offset and length designate.
        """
        if unit is StringIndexType.UTF16_CODE_UNIT:
            return (*self.utf16_span(start, end), self.text[start:end])
        if unit is StringIndexType.TEXT_ELEMENTS_V8:
            start, end = self.snap_to_clusters(start, end)
            offset = self.to_text_elements(start)
            return offset, self.to_text_elements(end) - offset, self.text[start:end]
        return start, end - start, self.text[start:end]
