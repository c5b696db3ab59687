"""Tokenization: the unit the CRF labels.

Numbers with inner separators (``6/29/2018``, ``1,250.00``) and words with inner apostrophes or hyphens
stay one token; every other non-space character is a token of its own. ``regex`` rather than ``re``
because its ``\\w`` includes combining marks, so decomposed accents and Indic vowel signs stay inside
their word. Labels map to tokens by overlap and a predicted entity runs from its first token's start to
its last token's end, so offsets never depend on how text between tokens looks.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

_ONE = r"\d+(?:[.,/:-]\d+)*|\w+(?:['’-]\w+)*|[^\w\s]"
_TOKENS = regex.compile(rf"(?:\s*+({_ONE}))*+")
"""Every token of a text in one match: a character is either space or starts a token (``\\w`` or
``[^\\w\\s]``), so "spaces, then a token" repeated finds what scanning for ``_ONE`` finds. ``regex``
keeps every repetition's capture, and handing back its lists costs half of building them from one match
object per token."""


@dataclass(frozen=True, slots=True)
class Tokens:
    """Token texts and their code-point spans, as parallel lists (cheaper to build than objects)."""

    words: list[str]
    starts: list[int]
    ends: list[int]

    def __len__(self) -> int:
        return len(self.words)


def tokenize(text: str, start: int = 0, end: int | None = None) -> Tokens:
    """Tokens of ``text[start:end]``, with offsets into ``text``."""
    match = _TOKENS.match(text, start, len(text) if end is None else end)
    assert match is not None  # the pattern matches the empty string
    return Tokens(match.captures(1), match.starts(1), match.ends(1))
