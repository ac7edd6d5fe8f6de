"""Domain packages import no web or CLI framework; dependencies point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[1] / "src" / "coalition"
DOMAINS = ["registry", "catalog", "requirements", "pledges", "meetings", "access", "matching",
           "logistics", "analytics", "io"]
FORBIDDEN = ("fastapi", "starlette", "typer", "jinja2", "coalition.web", "coalition.cli")


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("domain", DOMAINS)
def test_domain_imports_no_framework(domain: str) -> None:
    offenders = [
        f"{path.relative_to(SRC)} imports {name}"
        for path in (SRC / domain).rglob("*.py") if (SRC / domain).exists()
        for name in _imports(path) if name.startswith(FORBIDDEN)
    ]
    assert offenders == []


@pytest.mark.parametrize(("lower", "upper"), [("pledges", "matching"),
                                              ("requirements", "matching"),
                                              ("requirements", "pledges")])
def test_lower_domain_does_not_import_upper(lower: str, upper: str) -> None:
    offenders = [str(p) for p in (SRC / lower).rglob("*.py")
                 if any(n.startswith(f"coalition.{upper}") for n in _imports(p))]
    assert offenders == []
