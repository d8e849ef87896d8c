"""The closure operations' modules depend on each other one way: rules and writes on none of them."""

import ast
from pathlib import Path

import pytest

import closures

OPERATIONS = {"operations", "erasure", "bulk"}
ALLOWED = {
    "rules": set(),
    "writes": {"rules"},
    "operations": {"rules", "writes"},
    "erasure": {"rules", "writes"},
    "bulk": {"rules", "writes"},
}


def closure_modules_imported_by(name: str) -> set[str]:
    """The closures modules among OPERATIONS, rules and writes that closures/<name>.py imports."""
    tree = ast.parse((Path(closures.__file__).parent / f"{name}.py").read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level == 1 or node.module == "closures"):
            if node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("closures."))
    return found & (OPERATIONS | set(ALLOWED))


@pytest.mark.parametrize("name", sorted(ALLOWED))
def test_each_closure_module_imports_only_the_ones_below_it(name):
    assert closure_modules_imported_by(name) <= ALLOWED[name]
