"""Plain-string helpers: which latest-user texts the semantic layer looks at at all."""

from __future__ import annotations

import unicodedata

MAX_SEMANTIC_CHARS = 1000
"""Longer texts are cached exactly only: the model reads at most 256 word pieces
(about 1000 characters of English, fewer of code), so it would not see a difference
further on, and a long prompt (pasted code, a log) is rarely asked twice in other words."""


def prepare_text(text: str) -> str | None:
    """The text as the embedder and the guard see it (NFKC, whitespace collapsed), or
    None when the semantic layer must not serve it: empty, or longer than the model reads."""
    if not isinstance(text, str) or len(text) > 8 * MAX_SEMANTIC_CHARS:
        return None
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    if not cleaned or len(cleaned) > MAX_SEMANTIC_CHARS:
        return None
    return cleaned
