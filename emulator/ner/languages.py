"""The languages Custom NER documents as supported (``language-support.md``): the authoring catalog lists
them, and the container accepts documents in them.

The engine's features are not language-specific, so every listed language is served by any model; a code
outside the list is refused per document, as Azure refuses an unsupported language code.
"""

from __future__ import annotations

LANGUAGES = (
    ("English", "en"),
    ("English (US)", "en-us"),
    ("Afrikaans", "af"),
    ("Arabic", "ar"),
    ("Bulgarian", "bg"),
    ("Catalan", "ca"),
    ("Chinese (Simplified)", "zh-hans"),
    ("Chinese (Traditional)", "zh-hant"),
    ("Czech", "cs"),
    ("Danish", "da"),
    ("Dutch", "nl"),
    ("Estonian", "et"),
    ("Finnish", "fi"),
    ("French", "fr"),
    ("German", "de"),
    ("Greek", "el"),
    ("Hebrew", "he"),
    ("Hindi", "hi"),
    ("Hungarian", "hu"),
    ("Indonesian", "id"),
    ("Italian", "it"),
    ("Japanese", "ja"),
    ("Korean", "ko"),
    ("Latvian", "lv"),
    ("Lithuanian", "lt"),
    ("Norwegian", "nb"),
    ("Polish", "pl"),
    ("Portuguese (Brazil)", "pt-br"),
    ("Portuguese (Portugal)", "pt-pt"),
    ("Romanian", "ro"),
    ("Russian", "ru"),
    ("Slovak", "sk"),
    ("Slovenian", "sl"),
    ("Spanish", "es"),
    ("Swedish", "sv"),
    ("Thai", "th"),
    ("Turkish", "tr"),
    ("Ukrainian", "uk"),
    ("Vietnamese", "vi"),
)

"""(language name, language code) pairs; codes are compared case-insensitively."""

LANGUAGE_CODES = frozenset(code for _, code in LANGUAGES)
