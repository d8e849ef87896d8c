"""The shape the house style asks for, checked on the whole project: no view function over 25 lines,
no source file outside migrations and tests over 500 lines (STYLE.md: split a module by concern)."""

import inspect
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

ROOT = Path(__file__).resolve().parents[2]
APPS = ("crm", "customers", "service", "closures", "followups", "insights", "privacy", "analytics", "bench")
MAX_VIEW_LINES = 25
MAX_FILE_LINES = 500


def _callbacks(patterns):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _callbacks(pattern.url_patterns)
        elif isinstance(pattern, URLPattern):
            yield pattern.callback


def _our_views() -> dict[str, object]:
    views = {}
    for callback in _callbacks(get_resolver().url_patterns):
        view = inspect.unwrap(callback)
        module = getattr(view, "__module__", "") or ""
        if inspect.isfunction(view) and module.split(".")[0] in APPS:
            views[f"{module}.{view.__name__}"] = view
    return views


def test_the_scan_sees_the_views():
    assert len(_our_views()) > 30


@pytest.mark.parametrize("name", sorted(_our_views()))
def test_no_view_function_is_over_25_lines(name):
    lines, _start = inspect.getsourcelines(_our_views()[name])
    body = [line for line in lines if not line.lstrip().startswith("@")]
    assert len(body) <= MAX_VIEW_LINES, f"{name} has {len(body)} lines"


def test_no_source_file_is_over_500_lines():
    long = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" not in path.parts:
                count = len(path.read_text(encoding="utf-8").splitlines())
                if count > MAX_FILE_LINES:
                    long[path.relative_to(ROOT).as_posix()] = count
    assert long == {}
