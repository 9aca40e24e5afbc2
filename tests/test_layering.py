"""The layering rules, checked on the imports of every module (CONTRIBUTING.md).

messages ← providers, routing ← actors → storage → messages; config is pure data.
actors → http11, the HTTP/1.1 library, which imports nothing of ours; its sans-I/O
parser (http11/sansio/) imports no trio and no socket. Only actors/ and http11/ (and
the test rig fakes/) run trio; only storage/ touches SQL; only http11's client and
server touch the network.
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
        "http11",
    },
    "providers": {"trio", "httpx", "sqlalchemy", "actors", "storage", "fakes", "http11"},
    "budgets": {"trio", "httpx", "sqlalchemy", "actors", "storage", "providers", "fakes", "http11"},
    "routing": {"trio", "httpx", "sqlalchemy", "actors", "storage", "fakes", "http11"},
    "config": {"trio", "httpx", "sqlalchemy", "actors", "storage", "providers", "fakes", "http11"},
    "storage": {"trio", "httpx", "actors", "providers", "fakes", "http11"},
    "cli": {"trio", "httpx"},
    "actors": {"fakes"},
    "http11": {
        "httpx",
        "sqlalchemy",
        "actors",
        "messages",
        "providers",
        "routing",
        "budgets",
        "storage",
        "config",
        "cli",
        "fakes",
    },
    "http11/sansio": {"trio", "socket", "ssl", "select", "selectors", "asyncio"},
}
PRODUCT_PACKAGES = (
    "actors",
    "http11",
    "messages",
    "providers",
    "routing",
    "budgets",
    "storage",
    "config",
    "cli",
    "fakes",
)
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


def test_only_actors_and_the_http11_io_run_trio() -> None:
    runners = {
        str(path.relative_to(ROOT))
        for package in PRODUCT_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "trio" in _imports(path)
    }
    allowed = {
        path
        for path in runners
        if path.startswith(("actors/", "http11/", "fakes/"))
        and not path.startswith("http11/sansio/")
    }
    assert runners == allowed, sorted(runners - allowed)


def test_the_http11_parser_is_where_the_layering_test_looks() -> None:
    pure = {str(path.relative_to(ROOT)) for path in (ROOT / "http11" / "sansio").rglob("*.py")}
    assert {"http11/sansio/head.py", "http11/sansio/body.py"} <= pure


def test_only_the_http_client_opens_upstream_connections() -> None:
    users = {
        str(path.relative_to(ROOT))
        for package in ("actors", "http11", "providers", "routing", "messages", "storage", "cli")
        for path in (ROOT / package).rglob("*.py")
        if {"httpx", "socket"} & _imports(path) or "open_tcp_stream" in path.read_text()
    }
    assert users <= {
        "http11/client.py",
        "http11/_client_connection.py",
        "http11/server.py",
        "http11/_server_connection.py",
    }, users
