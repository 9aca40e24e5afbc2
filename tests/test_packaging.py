"""Every package of the source tree is shipped, type-checked and held to the size budget."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
SHIPPED = set(PYPROJECT["tool"]["setuptools"]["packages"])


def _budgeted() -> set[str]:
    """``PACKAGES`` of ``scripts/size_budget.py``."""
    tree = ast.parse((ROOT / "scripts" / "size_budget.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "PACKAGES":
            return set(ast.literal_eval(node.value))
    raise AssertionError("no PACKAGES in scripts/size_budget.py")


def _packages_under(top: str) -> set[str]:
    return {
        ".".join(init.parent.relative_to(ROOT).parts) for init in (ROOT / top).rglob("__init__.py")
    }


def test_every_subpackage_is_shipped() -> None:
    tops = {name for name in SHIPPED if "." not in name}
    assert set().union(*(_packages_under(top) for top in tops)) <= SHIPPED


def test_every_shipped_package_is_type_checked_and_budgeted() -> None:
    checked = set(PYPROJECT["tool"]["mypy"]["packages"])
    tops = {name for name in SHIPPED if "." not in name} - {"migrations"}
    assert tops == checked
    assert tops == _budgeted()
