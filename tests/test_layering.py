"""The layering rules, checked on the imports of every module (CONTRIBUTING.md).

messages ← providers, routing ← actors → storage → messages; config is pure data.
actors → http11, the HTTP/1.1 library, which imports nothing of ours; its sans-I/O
parser (http11/sansio/) imports no trio and no socket. Only actors/ and http11/ (and
the test rig fakes/) run trio; only storage/ touches SQL; only http11's client and
server touch the network.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

PRODUCT_PACKAGES: tuple[str, ...] = tuple(
    tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]["packages"]
)
"""Every package of ours but migrations/ (``tests/test_packaging.py`` keeps the lists equal)."""
OURS = {*PRODUCT_PACKAGES, "migrations"}
IMPURE = {"trio", "socket", "ssl", "httpx", "sqlalchemy"}
"""What a pure package never imports: an event loop, the network, SQL."""

FORBIDDEN = {
    # the vocabulary, and the config's plain data, import nothing of ours
    "messages": IMPURE | (OURS - {"messages"}),
    "config": IMPURE | (OURS - {"config"}),
    # pure translation, routing and budget arithmetic: messages and config only
    "providers": IMPURE | {"actors", "storage", "fakes", "http11", "routing", "budgets", "cli"},
    "routing": IMPURE | {"actors", "storage", "fakes", "http11", "providers", "budgets", "cli"},
    "budgets": IMPURE | {"actors", "storage", "fakes", "http11", "providers", "routing", "cli"},
    # the cache's pure parts (keys, embedding, index, hit decision): messages and config only
    "cache": IMPURE | (OURS - {"cache", "messages", "config"}),
    # the replay report's data and renderers: pure, on messages, config and budgets
    "replay": IMPURE | {"actors", "storage", "fakes", "http11", "providers", "routing", "cli"},
    "storage": {"trio", "socket", "ssl", "httpx", "actors", "providers", "routing", "fakes"}
    | {"http11", "cli"},
    "cli": {"trio", "httpx", "fakes", "http11"},
    "actors": {"fakes"},
    # the HTTP/1.1 library imports nothing of ours; its parser not even trio or sockets
    "http11": {"httpx", "sqlalchemy"} | (OURS - {"http11"}),
    "http11/sansio": {"trio", "socket", "ssl", "select", "selectors", "asyncio"},
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


def _modules() -> dict[str, Path]:
    found = {}
    for package in PRODUCT_PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            found[name.removesuffix(".__init__")] = path
    return found


def _module_imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of ours that ``path`` imports, ``TYPE_CHECKING`` imports included."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(
                name
                for name in (node.module, *(f"{node.module}.{a.name}" for a in node.names))
                if name in modules
            )
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_modules() -> None:
    modules = _modules()
    graph = {name: _module_imports(path, modules) - {name} for name, path in modules.items()}
    assert not _cycles(graph), _cycles(graph)


def test_the_cycle_finder_finds_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c"]]


def test_only_storage_runs_sql() -> None:
    """Elsewhere an ``Engine`` may be named (it is handed to storage), never queried."""
    users = []
    for package in PRODUCT_PACKAGES:
        if package == "storage":
            continue
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import) and any(
                    a.name.split(".")[0] == "sqlalchemy" for a in node.names
                ):
                    users.append(f"{path.relative_to(ROOT)}: import sqlalchemy")
                elif (
                    isinstance(node, ast.ImportFrom)
                    and (node.module or "").split(".")[0] == "sqlalchemy"
                    and (node.module, [a.name for a in node.names])
                    != ("sqlalchemy.engine", ["Engine"])
                ):
                    users.append(f"{path.relative_to(ROOT)}: from {node.module} import ...")
    assert not users, "\n".join(users)


def test_channels_are_opened_in_the_system_wiring_only() -> None:
    openers = {
        str(path.relative_to(ROOT))
        for package in PRODUCT_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "open_memory_channel" in path.read_text()
    }
    # besides the wiring: the per-request reply channels (CONTRIBUTING, rule 6), opened by
    # the one who waits for the reply and owns its timeout; the fakes are test rigs
    per_request = {"actors/ingress.py", "actors/reservation.py"}
    assert {p for p in openers if not p.startswith("fakes/")} <= {"actors/system.py"} | per_request


def test_logging_is_configured_once() -> None:
    configurers = {
        str(path.relative_to(ROOT))
        for package in PRODUCT_PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "structlog.configure(" in path.read_text() or "logging.basicConfig(" in path.read_text()
    }
    assert configurers == {"cli/log_config.py"}
