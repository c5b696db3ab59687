"""Properties with Hypothesis: generated documents and request bodies, judged only by what the contract
guarantees (azure-contract §2.1–§2.5, §4).

The documents mix invoice-like text (so a model of supplier invoices finds entities to check) with the text
that breaks offset arithmetic: emoji with skin tones, ZWJ sequences and flags, combining marks, CRLF,
right-to-left scripts, zero-width characters and very long words. No property depends on which entities a
target finds; ``hypothesis.target`` only steers generation towards documents where it finds some.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import regex
from hypothesis import HealthCheck, given, settings, target
from hypothesis import strategies as st

from conformance.client import JobsClient, documented_error, results
from conformance.documents import EMOJI_INVOICE, INVOICE, mutated

UNITS = (None, "TextElements_v8", "UnicodeCodePoint", "Utf16CodeUnit")
"""The stringIndexType values a job may name; None leaves it out (the default, TextElements_v8)."""

SETTINGS = settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
"""Each example is a round trip to the target: no per-example deadline (the client's own timeouts catch a
hang), few examples; the plugin's autouse fixtures are function-scoped but hold nothing per example."""

INVOICE_PIECES = (
    INVOICE,
    "Invoice INV-2024-0117 from Contoso Supplies Ltd",
    "total 1,250.00 EUR",
    "due 2 April 2024",
    "Fabrikam GmbH, Berlin",
    "Contact: Ana Lopez.",
    "12 Harbour Road, Seattle",
)
TRICKY_PIECES = (
    "👍🏽",  # a skin tone modifier
    "👩‍👩‍👧‍👦",  # a ZWJ family
    "👩🏽‍💻",  # a skin tone inside a ZWJ sequence
    "🇩🇪",  # a flag (two regional indicators)
    "🇫🇷🇩🇪",  # two flags in a row
    "1️⃣",  # a keycap (variation selector and an enclosing mark)
    "🧾",  # an astral character: two UTF-16 code units
    "e\u0301",  # a combining acute accent
    "a\u0308\u0323",  # two combining marks
    "\r\n",
    "\u200b",  # zero-width space
    "\u200c",  # zero-width non-joiner
    "\u200d",  # a lone zero-width joiner
    "\u2060",  # word joiner
    "\ufeff",  # zero-width no-break space
    "חשבונית מס׳ 17 סך הכל 1,250.00",  # Hebrew
    "فاتورة رقم 17 بتاريخ ٣ مارس",  # Arabic, with Arabic-Indic digits
    "\u202bRTL embedded\u202c",  # right-to-left embedding controls
)
SEPARATORS = (" ", " ", "  ", "\r\n", "\n", "\t", "", "\u200b", "\u200d")

_RANDOM_TEXT = st.text(st.characters(categories=("L", "M", "N", "P", "S", "Zs"), max_codepoint=0x07FF), max_size=30)
"""Letters, marks, digits, punctuation, symbols and spaces of the Latin, Greek, Cyrillic, Armenian, Hebrew,
Arabic and Syriac blocks. Scripts where grapheme clusters changed after Unicode 8.0 other than by emoji (Indic
conjuncts, Thai and Lao vowels, Arabic prepended marks) stay out: there a conforming TextElements_v8 count
is ambiguous."""


def _long_word(piece: str, times: int) -> str:
    return piece * times


_LONG_WORDS = st.builds(
    _long_word, st.sampled_from(("x", "Contoso", "é", "e\u0301", "👍🏽", "🧾", "א")), st.integers(60, 700)
)
"""Words far beyond a tokenizer's usual length (the service warns LongWordsInDocument; it must still answer)."""

_PIECES = st.one_of(
    st.sampled_from(INVOICE_PIECES), st.sampled_from(TRICKY_PIECES), _RANDOM_TEXT, _LONG_WORDS, st.just(EMOJI_INVOICE)
)


@st.composite
def _document(draw: st.DrawFn) -> str:
    """A text of pieces, each followed by a separator (which may itself be tricky: CRLF, ZWSP, ZWJ)."""
    pieces = draw(st.lists(st.tuples(_PIECES, st.sampled_from(SEPARATORS)), min_size=1, max_size=8))
    return "".join(piece + separator for piece, separator in pieces)


DOCUMENTS = st.lists(_document(), min_size=1, max_size=3)


def _analysed(jobs: JobsClient, texts: list[str], unit: str | None) -> dict[str, Any]:
    """The finished job of ``texts`` in ``unit``: a 5xx, a refusal or a hang fails in ``JobsClient.run``."""
    parameters = {"stringIndexType": unit} if unit else {}
    return jobs.run(jobs.body(*texts, **parameters))


def _entities(job: dict[str, Any], texts: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """Each entity of the job with the text of its document; steers Hypothesis to documents with entities."""
    found = results(job)["documents"]
    target(float(sum(len(document["entities"]) for document in found)), label="entities")
    for document in found:
        assert document["id"] in {str(number) for number in range(len(texts))}, f"unknown id {document['id']!r}"
        for entity in document["entities"]:
            yield texts[int(document["id"])], entity


# Offsets in each string index type ----------------------------------------------------------------------------------

_UNICODE8_BREAKS = regex.compile(r"(?=[\U0001F3FB-\U0001F3FF])|(?<=\u200d)(?=\p{Extended_Pictographic})")
_REGIONAL_INDICATOR = regex.compile(r"\p{Regional_Indicator}")


def _unicode8_text_elements(text: str) -> list[str]:
    """Grapheme clusters as Unicode 8.0.0 drew them, for the text generated here: today's clusters cut before a
    skin tone modifier and between a ZWJ and a pictograph (neither joined before Unicode 9 and 11), and runs of
    regional indicators joined whole (Unicode 8.0 did not pair them)."""
    elements: list[str] = []
    for cluster in regex.findall(r"\X", text):
        for piece in filter(None, _UNICODE8_BREAKS.split(cluster)):
            if elements and _REGIONAL_INDICATOR.fullmatch(elements[-1][-1]) and _REGIONAL_INDICATOR.match(piece):
                elements[-1] += piece
            else:
                elements.append(piece)
    return elements


def _unit_countings(text: str, unit: str | None) -> list[list[bytes]]:
    """The ways a conforming target may count ``text`` in ``unit``, each unit as its UTF-16 bytes: a UTF-16
    code unit may be half a surrogate pair, which only bytes join back into the character.

    TextElements_v8 is documented as Unicode 8.0.0 grapheme clusters, yet .NET's StringInfo (which the
    documentation points clients to) follows today's Unicode; both countings are accepted."""
    if unit == "Utf16CodeUnit":
        data = text.encode("utf-16-le")
        return [[data[index : index + 2] for index in range(0, len(data), 2)]]
    if unit == "UnicodeCodePoint":
        return [[character.encode("utf-16-le") for character in text]]
    countings = (regex.findall(r"\X", text), _unicode8_text_elements(text))
    return [[element.encode("utf-16-le") for element in counting] for counting in countings]


def _slices_in(units: list[bytes], entity: dict[str, Any]) -> bool:
    offset: int = entity["offset"]
    end: int = offset + entity["length"]
    text: str = entity["text"]
    return end <= len(units) and b"".join(units[offset:end]) == text.encode("utf-16-le", "surrogatepass")


@pytest.mark.clause("entities/offsets-slice-text")
@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit or "default")
@SETTINGS
@given(texts=DOCUMENTS)
def test_every_entity_is_the_document_slice_at_its_offset(jobs: JobsClient, unit: str | None, texts: list[str]) -> None:
    for text, entity in _entities(_analysed(jobs, texts, unit), texts):
        for field in ("offset", "length"):
            assert type(entity[field]) is int, f"{field} is not an integer: {entity}"
            assert entity[field] >= 0, f"negative {field}: {entity}"
        countings = _unit_countings(text, unit)
        assert any(_slices_in(units, entity) for units in countings), (
            f"{entity} is not the slice at its offset in {unit or 'the default unit'} "
            f"({min(map(len, countings))} units) of {text!r}"
        )


# Scores, categories and one answer per document ---------------------------------------------------------------------


@pytest.mark.clause("entities/confidence-range")
@SETTINGS
@given(texts=DOCUMENTS, unit=st.sampled_from(UNITS))
def test_every_entity_has_a_score_from_0_to_1_and_a_category(
    jobs: JobsClient, texts: list[str], unit: str | None
) -> None:
    for _, entity in _entities(_analysed(jobs, texts, unit), texts):
        assert type(entity["confidenceScore"]) in (int, float), f"confidenceScore is not a number: {entity}"
        assert 0 <= entity["confidenceScore"] <= 1, f"confidenceScore out of [0, 1]: {entity}"
        assert isinstance(entity["category"], str), f"category is not a string: {entity}"
        assert entity["category"], f"empty category: {entity}"


@pytest.mark.clause("entities/any-text", "jobs/one-answer-per-document")
@SETTINGS
@given(texts=DOCUMENTS, unit=st.sampled_from(UNITS))
def test_any_text_is_answered_once_per_document(jobs: JobsClient, texts: list[str], unit: str | None) -> None:
    found = results(_analysed(jobs, texts, unit))
    answered = Counter(answer["id"] for answer in [*found["documents"], *found["errors"]])
    assert answered == Counter(str(number) for number in range(len(texts))), answered


# Request bodies -----------------------------------------------------------------------------------------------------

_JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
    | st.sampled_from(
        ("", "CustomEntityRecognition", "EntityRecognition", "customentityrecognition", "Utf16CodeUnit", "en", "0")
    )
)
_JSON = st.recursive(
    _JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)

Path = tuple[str | int, ...]


def _paths(value: Any, path: Path = ()) -> Iterator[Path]:
    """Every field and item of a JSON value below its root, parents first."""
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in children:
        yield (*path, key)
        yield from _paths(child, (*path, key))


def _holds(value: Any, key: str | int) -> bool:
    """Whether the JSON ``value`` has the field or item ``key``."""
    if isinstance(value, dict):
        return key in value
    return isinstance(value, list) and isinstance(key, int) and key < len(value)


def _changed(body: Any, path: Path, change: str, value: Any) -> Any:
    """``body`` with the field at ``path`` dropped, replaced by ``value``, or given an extra sibling ``value``;
    unchanged where an earlier change removed or retyped ``path``."""
    *route, key = path
    parent = body
    for step in route:
        if not _holds(parent, step):
            return body
        parent = parent[step]
    if not _holds(parent, key):
        return body
    if change == "drop":
        return mutated(body, path)
    if change == "replace":
        return mutated(body, path, value)
    extended = {**parent, f"extra{len(parent)}": value} if isinstance(parent, dict) else [*parent, value]
    return mutated(body, tuple(route), extended) if route else extended


@st.composite
def _bodies(draw: st.DrawFn, jobs: JobsClient) -> Any:
    """A job body of any kind: a valid one, one of too many documents, a valid one with one to three fields
    dropped, retyped or added, or any JSON value at all."""
    valid = jobs.body(*draw(st.lists(st.sampled_from(INVOICE_PIECES), min_size=1, max_size=3)))
    kind = draw(st.sampled_from(("valid", "too many documents", "mutated", "mutated", "any JSON")))
    if kind == "valid":
        return valid
    if kind == "too many documents":
        return jobs.body(*[INVOICE] * draw(st.integers(26, 40)))
    if kind == "any JSON":
        return draw(_JSON)
    changes = st.tuples(st.sampled_from(list(_paths(valid))), st.sampled_from(("drop", "replace", "extra")), _JSON)
    body = valid
    for path, change, value in draw(st.lists(changes, min_size=1, max_size=3)):
        body = _changed(body, path, change, value)
    return body


@pytest.mark.clause("errors/never-5xx")
@SETTINGS
@given(data=st.data())
def test_any_body_is_accepted_or_refused_never_a_5xx(jobs: JobsClient, data: st.DataObject) -> None:
    answer = jobs.submit(data.draw(_bodies(jobs), label="body"))
    assert answer.status_code == 202 or 400 <= answer.status_code < 500, answer.text[:300]
    if answer.status_code == 202:
        jobs.poll(answer.headers["Operation-Location"])


@pytest.mark.clause("errors/body-shape")
@SETTINGS
@given(data=st.data())
def test_any_refused_body_gets_an_error_body(jobs: JobsClient, data: st.DataObject) -> None:
    answer = jobs.submit(data.draw(_bodies(jobs), label="body"))
    if answer.status_code != 202:
        documented_error(answer, answer.status_code)
