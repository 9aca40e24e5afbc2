"""The fake Anthropic's prompt cache: a real prefix cache keyed on the marked prefix.

As Anthropic describes its cache (platform.claude.com, "Prompt caching"):

- The prompt is read as a sequence of blocks in the order tools → system → messages
  (each tool definition, each system text block, each message content block; a string
  ``content`` or ``system`` is one text block). A block carrying ``cache_control`` is a
  breakpoint; at most four per request (the fake does not police that, the gateway does).
- At each breakpoint the cache is looked up for the prefix ending there, and for the
  prefixes ending at up to 20 blocks before it: the longest prefix found is *read*
  (``cache_read_input_tokens``).
- The prefix up to the last breakpoint long enough to cache (the model's minimum:
  4096 tokens for Opus 4.5+ and Haiku 4.5, 2048 for Haiku 3.x, 1024 otherwise) is then
  *written* (``cache_creation_input_tokens``: its tokens beyond what was read), and every
  cacheable breakpoint's prefix gets an entry. A prefix shorter than the minimum is not
  cached and costs nothing extra.
- Entries live 5 minutes from their last use, per API key and model.
- ``input_tokens`` is what remains: the prompt minus the read and written parts.

The key of a prefix is a hash of the blocks' canonical JSON *without* their
``cache_control`` (moving a mark does not change the content). Token counts follow the
fake's formula (``fakes.script``): a prefix of N bytes of canonical JSON is N // 4 tokens,
capped so read + written never exceed the request's input tokens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import orjson

from fakes.script import FakeUsage

LOOKBACK_BLOCKS = 20
TTL_S = 300.0
_MINIMUMS = (("opus-4-5", 4096), ("opus-5", 4096), ("haiku-4-5", 4096), ("haiku-3", 2048))
_DEFAULT_MINIMUM = 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheCharge:
    """The cached part of one request's prompt."""

    read: int = 0
    written: int = 0


@dataclass(frozen=True, slots=True)
class _Block:
    digest: bytes  # hash of the prefix ending with this block
    tokens: int  # tokens of the prefix ending with this block
    marked: bool


def minimum_tokens(model: str) -> int:
    """The shortest prefix the model caches."""
    name = model.lower()
    return next((size for part, size in _MINIMUMS if part in name), _DEFAULT_MINIMUM)


def prompt_blocks(body: Mapping[str, object]) -> list[tuple[bytes, bool]]:
    """Each block of the prompt, in cache order: its canonical JSON (mark removed) and
    whether it carries a mark."""
    blocks: list[tuple[bytes, bool]] = []
    blocks.extend(_canonical("tool", tool) for tool in _objects(body.get("tools")))
    blocks.extend(_canonical("system", block) for block in _content(body.get("system")))
    for message in _objects(body.get("messages")):
        role = str(message.get("role"))
        blocks.extend(_canonical(role, block) for block in _content(message.get("content")))
    return blocks


class PromptCache:
    """Prefix entries by key, each with its expiry time (see the module docstring)."""

    def __init__(self) -> None:
        self._expiry: dict[bytes, float] = {}

    def clear(self) -> None:
        self._expiry.clear()

    def charged(
        self, usage: FakeUsage, body: Mapping[str, object], *, scope: tuple[str, str], now: float
    ) -> FakeUsage:
        """``usage`` with the read and written parts of the request's prompt; ``scope`` is
        (who may share entries, model)."""
        key, model = scope
        charge = self.charge(body, scope=key, model=model, now=now, limit=usage.input_tokens)
        return replace(usage, cached_tokens=charge.read, cache_write_tokens=charge.written)

    def charge(
        self, body: Mapping[str, object], *, scope: str, model: str, now: float, limit: int
    ) -> CacheCharge:
        """Look the request's marked prefixes up, write the new ones; ``limit`` is the
        request's input tokens (read + written never exceed it)."""
        blocks = _chain(prompt_blocks(body), f"{scope}\n{model}")
        marks = [index for index, block in enumerate(blocks) if block.marked]
        if not marks:
            return CacheCharge()
        hit = self._longest_hit(blocks, marks, now)
        read = min(blocks[hit].tokens if hit is not None else 0, limit)
        if hit is not None:
            self._expiry[blocks[hit].digest] = now + TTL_S
        minimum = minimum_tokens(model)
        cacheable = [index for index in marks if blocks[index].tokens >= minimum]
        for index in cacheable:
            self._expiry[blocks[index].digest] = now + TTL_S
        written = 0
        if cacheable:
            written = max(0, min(blocks[cacheable[-1]].tokens, limit) - read)
        return CacheCharge(read=read, written=written)

    def _longest_hit(
        self, blocks: Sequence[_Block], marks: Sequence[int], now: float
    ) -> int | None:
        found: int | None = None
        for mark in marks:
            for index in range(mark, max(-1, mark - LOOKBACK_BLOCKS - 1), -1):
                if self._expiry.get(blocks[index].digest, 0.0) > now:
                    found = index if found is None else max(found, index)
                    break
        return found


def _chain(blocks: Sequence[tuple[bytes, bool]], scope: str) -> list[_Block]:
    running = hashlib.sha256(scope.encode())
    size = 0
    chained: list[_Block] = []
    for payload, marked in blocks:
        running.update(len(payload).to_bytes(8, "big"))
        running.update(payload)
        size += len(payload) - payload.index(b"\n") - 1  # the block's JSON, not its role
        chained.append(_Block(digest=running.copy().digest(), tokens=size // 4, marked=marked))
    return chained


def _canonical(role: str, block: Mapping[str, object]) -> tuple[bytes, bool]:
    """``role`` + newline + the block's sorted-key JSON without its mark."""
    content = {key: value for key, value in block.items() if key != "cache_control"}
    payload = role.encode() + b"\n" + orjson.dumps(content, option=orjson.OPT_SORT_KEYS)
    return payload, "cache_control" in block


def _content(value: object) -> list[Mapping[str, object]]:
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    return _objects(value)


def _objects(value: object) -> list[Mapping[str, object]]:
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


__all__ = ["CacheCharge", "PromptCache", "minimum_tokens", "prompt_blocks"]
