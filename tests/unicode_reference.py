"""Reference offset arithmetic, written the obvious (slow) way, to judge ``emulator.ner.offsets`` against."""

from __future__ import annotations

import regex

from emulator.ner import StringIndexType


def slice_in_unit(text: str, unit: StringIndexType, offset: int, length: int) -> str:
    """The part of ``text`` that ``offset``/``length`` designate in ``unit``, as a client would compute it."""
    if unit is StringIndexType.UTF16_CODE_UNIT:
        units = text.encode("utf-16-le")
        return units[2 * offset : 2 * (offset + length)].decode("utf-16-le")
    if unit is StringIndexType.TEXT_ELEMENTS_V8:
        return "".join(regex.findall(r"\X", text)[offset : offset + length])
    return text[offset : offset + length]


def length_in_unit(text: str, unit: StringIndexType) -> int:
    if unit is StringIndexType.UTF16_CODE_UNIT:
        return len(text.encode("utf-16-le")) // 2
    if unit is StringIndexType.TEXT_ELEMENTS_V8:
        return len(regex.findall(r"\X", text))
    return len(text)
