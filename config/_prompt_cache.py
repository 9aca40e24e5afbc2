"""A provider's ``prompt_cache``: whether the gateway marks provider prompt-cache
breakpoints in what it sends (Anthropic's ``cache_control``; see README "Prompt caching").

``auto`` (the default) marks them; ``off`` sends none. YAML reads a bare ``off`` as the
boolean false, so the word is taken as written whatever YAML made of it; ``true``,
``false``, numbers, lists and other words are refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from config._nodes import describe

if TYPE_CHECKING:
    from config._nodes import Fields

PROMPT_CACHE_MODES = ("auto", "off")


def read_prompt_cache(section: Fields) -> str:
    node = section.get("prompt_cache")
    if node is None:
        return "auto"
    where = section.path("prompt_cache")
    word = str(node.value).strip().lower() if isinstance(node, yaml.ScalarNode) else ""
    if word not in PROMPT_CACHE_MODES:
        shown = f"'{node.value[:40]}'" if isinstance(node, yaml.ScalarNode) else describe(node)
        problem = f"{where}: expected auto or off, got {shown}"
        raise section.reader.error(node, problem)
    return word


__all__ = ["PROMPT_CACHE_MODES", "read_prompt_cache"]
