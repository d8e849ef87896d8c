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


def _views() -> list[tuple[str, ast.FunctionDef]]:
    """The view functions of closures/views/: those the URLconf routes to."""
    from closures.urls import urlpatterns

    routed = {(p.callback.__module__.rsplit(".", 1)[-1], p.callback.__name__) for p in urlpatterns}
    found = []
    for path in sorted((Path(closures.__file__).parent / "views").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and (path.stem, node.name) in routed:
                found.append((f"{path.stem}.{node.name}", node))
    assert len(found) == len(routed)
    return found


@pytest.mark.parametrize(("name", "node"), _views(), ids=lambda v: v if isinstance(v, str) else "")
def test_each_view_is_at_most_25_lines_and_declares_its_permission(name, node):
    assert node.end_lineno - node.lineno + 1 <= 25, f"{name} has {node.end_lineno - node.lineno + 1} lines"
    decorators = [d.func.id for d in node.decorator_list if isinstance(d, ast.Call) and isinstance(d.func, ast.Name)]
    assert "require" in decorators, name
