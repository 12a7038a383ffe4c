"""How the platforms measure ad text."""

from __future__ import annotations

import unicodedata


def ad_text_length(text: str) -> int:
    """Characters as Google Ads counts them: double-width (CJK) characters count as two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
