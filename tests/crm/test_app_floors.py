"""The apps' one-way dependencies (DESIGN.md "Apps and what each owns"): an app may import the apps
on the floors below it, never one above. A lower app that must react to a higher one reads an
outbox event or a registry the higher app fills (customers.panels, crm.audit_display, crm.inbox)."""

import ast
from pathlib import Path

import pytest

FLOORS = {
    "crm": 0,
    "customers": 1,
    "service": 2,
    "closures": 3,
    "followups": 4,
    "insights": 5,
    "privacy": 6,
    "analytics": 7,
    "api": 8,
}
ROOT = Path(__file__).resolve().parents[2]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("app", [app for app in FLOORS if (ROOT / app).is_dir()])
def test_an_app_imports_only_the_apps_below_it(app):
    upward = []
    for path in sorted((ROOT / app).rglob("*.py")):
        for imported in _imports(path) & FLOORS.keys():
            if FLOORS[imported] > FLOORS[app]:
                upward.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert not upward, upward


def test_the_check_finds_an_upward_import(tmp_path):
    module = tmp_path / "m.py"
    module.write_text("from closures.models import Closure\nimport followups.planner\nfrom . import x\n")
    assert _imports(module) == {"closures", "followups"}
