"""Offsets in code points, UTF-16 code units and text elements: examples for each hard case, then properties."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given
from hypothesis import strategies as st

from emulator.ner import OffsetError, StringIndexType, TextIndex

from .unicode_reference import length_in_unit, slice_in_unit

U16, CP, TE = (
    StringIndexType.UTF16_CODE_UNIT,
    StringIndexType.UNICODE_CODE_POINT,
    StringIndexType.TEXT_ELEMENTS_V8,
)

EMOJI = "😀"  # one code point outside the BMP: two UTF-16 code units, one text element
FAMILY = "👩\u200d👩\u200d👧"  # ZWJ sequence: five code points, eight UTF-16 code units, one text element
FLAG = "🇪🇺"  # regional-indicator pair: two code points, four UTF-16 units, one text element
E_ACUTE = "e\u0301"  # e + combining acute: two code points, one text element
ZWSP = "\u200b"  # zero-width space: its own text element


def _span(text: str, target: str) -> tuple[int, int]:
    start = text.index(target)
    return start, start + len(target)


@pytest.mark.parametrize(
    ("prefix", "utf16", "codepoints", "elements"),
    [
        ("plain ", 6, 6, 6),
        (f"{EMOJI} ", 3, 2, 2),
        (f"{FAMILY} ", 9, 6, 2),
        (f"{FLAG} ", 5, 3, 2),
        (f"Caf{E_ACUTE} ", 6, 6, 5),
        ("a\r\nb\r\n", 6, 6, 4),
        (f"a{ZWSP}b ", 4, 4, 4),
    ],
    ids=["ascii", "emoji", "zwj-sequence", "flag", "combining-mark", "crlf", "zero-width-space"],
)
def test_offset_of_a_word_after_each_kind_of_character(prefix: str, utf16: int, codepoints: int, elements: int) -> None:
    text = prefix + "Contoso"
    start, end = _span(text, "Contoso")
    index = TextIndex(text)
    assert index.span(U16, start, end) == (utf16, 7, "Contoso")
    assert index.span(CP, start, end) == (codepoints, 7, "Contoso")
    assert index.span(TE, start, end) == (elements, 7, "Contoso")


def test_entity_containing_astral_characters_has_lengths_per_unit() -> None:
    text = f"Ship {FAMILY}{EMOJI} now"
    start, end = _span(text, FAMILY + EMOJI)
    index = TextIndex(text)
    assert index.span(U16, start, end)[:2] == (5, 10)
    assert index.span(CP, start, end)[:2] == (5, 6)
    assert index.span(TE, start, end)[:2] == (5, 2)


def test_text_elements_widen_a_span_that_would_split_a_cluster() -> None:
    text = "x Cafe\u0301 y"
    start = text.index("Cafe")
    # A span ending between 'e' and its combining accent is widened to include the accent.
    offset, length, span_text = TextIndex(text).span(TE, start, start + 4)
    assert (offset, length, span_text) == (2, 4, f"Caf{E_ACUTE}")


def test_crlf_is_one_text_element_but_two_code_points() -> None:
    text = "Date\r\nParker McLean"
    start, end = _span(text, "Parker")
    index = TextIndex(text)
    assert index.span(TE, start, end)[:2] == (5, 6)
    assert index.span(U16, start, end)[:2] == (6, 6)
    assert index.length(TE) == 18
    assert index.length(U16) == index.length(CP) == 19


def test_from_utf16_converts_and_refuses_half_characters() -> None:
    index = TextIndex(f"a{EMOJI}b")
    assert [index.from_utf16(u) for u in (0, 1, 3, 4)] == [0, 1, 2, 3]
    with pytest.raises(OffsetError, match="between the two UTF-16 code units"):
        index.from_utf16(2)
    with pytest.raises(OffsetError, match="outside the text"):
        index.from_utf16(5)
    with pytest.raises(OffsetError, match="outside the text"):
        index.from_utf16(-1)


_hard_text = st.lists(
    st.one_of(
        st.sampled_from([EMOJI, FAMILY, FLAG, E_ACUTE, ZWSP, "\r\n", "\n", "\u200d", "\ufe0f", "\u05d0\u05b7", " "]),
        st.text(min_size=1, max_size=5),
    ),
    max_size=20,
).map("".join)


@given(_hard_text, st.data())
def test_every_unit_designates_the_same_text(text: str, data: st.DataObject) -> None:
    index = TextIndex(text)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    for unit in StringIndexType:
        offset, length, span_text = index.span(unit, start, end)
        assert slice_in_unit(text, unit, offset, length) == span_text
        assert text[start:end] in span_text
        assert offset >= 0
        assert offset + length <= length_in_unit(text, unit)
        assert index.length(unit) == length_in_unit(text, unit)


@given(_hard_text)
def test_utf16_round_trip(text: str) -> None:
    index = TextIndex(text)
    for cp in range(len(text) + 1):
        assert index.from_utf16(index.to_utf16(cp)) == cp


_JOINERS = [
    "\u0301",
    "\u0308",
    "\u200d",
    "\ufe0f",
    "\r",
    "\n",
    "\u0600",
    "\u1100",
    "\u1161",
    "\u11a8",
    "\U0001f1e9",
    "\U0001f1ea",
    "\u0903",
    "\U0001f468",
    "\U0001f469",
    "\U0001f3fd",
    "a",
    "é",
    "\u0915",
    "\u094d",
    "\u00ad",
]


@given(st.lists(st.sampled_from(_JOINERS) | st.text(max_size=3), max_size=30).map("".join))
def test_text_element_counting_scans_only_where_clusters_can_be_and_agrees_with_a_full_scan(text: str) -> None:
    clusters = [m.group() for m in regex.finditer(r"\X", text)]
    index = TextIndex(text)
    assert index.text_elements_length() == len(clusters)
    boundary = 0
    for count, cluster in enumerate(clusters):
        assert index.to_text_elements(boundary) == count
        boundary += len(cluster)
