"""Folding Vietnamese text for matching: counters and exports type with or without accents."""

from __future__ import annotations

import unicodedata

__all__ = ["fold"]


def fold(text: str) -> str:
    """Lowercase without Vietnamese accents: "Đăng ký" -> "dang ky"."""
    # đ/Đ is a letter of its own, not d with a combining mark, so NFD leaves it alone.
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
