"""``budgets/`` is pure: no trio, no HTTP, no SQL, no actors or storage."""

from __future__ import annotations

from pathlib import Path

from tests.test_layering import _imports

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN = {"trio", "httpx", "sqlalchemy", "actors", "storage", "providers", "fakes", "routing"}


def test_budgets_imports_nothing_impure() -> None:
    violations = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((ROOT / "budgets").rglob("*.py"))
        for name in _imports(path) & FORBIDDEN
    ]
    assert not violations, "\n".join(violations)


def test_the_budget_vocabulary_stays_pure_too() -> None:
    assert not _imports(ROOT / "messages" / "budget.py") & (FORBIDDEN | {"budgets", "config"})
