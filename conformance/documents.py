"""The texts the suite sends. Invoice-like, so a model of the sample project finds entities in them, but no
clause depends on which entities a target finds (its model is the user's)."""

from __future__ import annotations

INVOICE = (
    "Invoice INV-2024-0117 from Contoso Supplies Ltd, 12 Harbour Road, Seattle, dated 3 March 2024. "
    "Total due: 1,250.00 EUR by 2 April 2024. Contact: Ana Lopez."
)
EMOJI_INVOICE = "🧾 Invoice INV-2023-0042 👍🏽 from Fabrikam GmbH 🇩🇪, Berlin; total 980.50 USD due 1 May 2023 ✅."
UNKNOWN_JOB = "00000000-0000-4000-8000-000000000000"
"""A well-formed job id no container issued (version-4 UUID layout, all zeros)."""


def text_of(length: int) -> str:
    """An invoice-like text of exactly ``length`` characters (ASCII: characters and text elements agree)."""
    return ((INVOICE + " ") * (length // len(INVOICE) + 1))[:length]
