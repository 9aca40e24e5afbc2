"""Fail when a module or a function outgrows the size budget (CONTRIBUTING.md)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGES = (
    "actors",
    "http11",
    "messages",
    "providers",
    "replay",
    "routing",
    "budgets",
    "storage",
    "config",
    "cli",
    "fakes",
    "cache",
)
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def problems(root: Path) -> list[str]:
    found = []
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            text = path.read_text()
            lines = text.count("\n") + 1
            if lines > MAX_MODULE_LINES:
                found.append(f"{path}: {lines} lines (budget {MAX_MODULE_LINES})")
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    length = (node.end_lineno or node.lineno) - node.lineno + 1
                    if length > MAX_FUNCTION_LINES:
                        found.append(
                            f"{path}:{node.lineno}: {node.name}() is {length} lines "
                            f"(budget {MAX_FUNCTION_LINES})"
                        )
    return found


if __name__ == "__main__":
    found = problems(Path(__file__).resolve().parent.parent)
    print("\n".join(found) or "size budget: ok")
    sys.exit(1 if found else 0)
