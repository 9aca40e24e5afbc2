"""The layering rules, checked on the imports of every module (CONTRIBUTING.md).

messages ← providers, routing ← actors → storage → messages; config is pure data.
Only actors/ (and the test rig fakes/) run trio; only storage/ touches SQL; only the
provider worker's client touches the network.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

FORBIDDEN = {
    "messages": {
        "trio",
        "httpx",
        "sqlalchemy",
        "actors",
        "storage",
        "providers",
        "routing",
        "fakes",
    },
    "providers": {"trio", "httpx", "sqlalchemy", "actors", "storage", "fakes"},
    "budgets": {"trio", "httpx", "sqlalchemy", "actors", "storage", "providers", "fakes"},
    "routing": {"trio", "httpx", "sqlalchemy", "actors", "storage", "fakes"},
    "config": {"trio", "httpx", "sqlalchemy", "actors", "storage", "providers", "fakes"},
    "storage": {"trio", "httpx", "actors", "providers", "fakes"},
    "cli": {"trio", "httpx"},
    "actors": {"fakes"},
}
ALLOWED_EXCEPTIONS = {
    # the demo is the one actor that runs a fake provider beside the gateway, by design
    ("actors/demo.py", "fakes"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_respect_the_layers(package: str) -> None:
    violations = []
    for path in sorted((ROOT / package).rglob("*.py")):
        relative = str(path.relative_to(ROOT))
        for name in _imports(path) & FORBIDDEN[package]:
            if (relative, name) not in ALLOWED_EXCEPTIONS:
                violations.append(f"{relative} imports {name}")
    assert not violations, "\n".join(violations)


def test_only_the_http_client_opens_upstream_connections() -> None:
    users = {
        str(path.relative_to(ROOT))
        for package in ("actors", "providers", "routing", "messages", "storage", "cli")
        for path in (ROOT / package).rglob("*.py")
        if {"httpx", "socket"} & _imports(path) or "open_tcp_stream" in path.read_text()
    }
    assert users <= {
        "actors/http_client.py",
        "actors/_upstream_connection.py",
        "actors/http_server.py",
        "actors/_http_connection.py",
    }, users
