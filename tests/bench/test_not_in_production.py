"""The benchmark and the scale seeding are development tools: production's settings install none
of their code, and its `manage.py help` lists neither command. bench.settings adds them."""

import os
import subprocess
import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import get_commands

TOOLS = {"bench", "seed_scale", "backtest_cdnow"}
BENCH_DIR = Path(settings.BASE_DIR, "bench").resolve()
# Imports every module of every app of the project, as production could, and lists the benchmark's
# and scale seeding's modules that came with them: bench/, or any module named like theirs.
IMPORT_ALL = """
import importlib, pkgutil, sys
from pathlib import Path
import django
django.setup()
from django.apps import apps
from django.conf import settings
for config in apps.get_app_configs():
    path = Path(config.path).resolve()  # the project's apps, not the libraries in its .venv
    if path.is_relative_to(Path(settings.BASE_DIR).resolve()) and not path.is_relative_to(Path(sys.prefix).resolve()):
        for module in pkgutil.walk_packages([config.path], prefix=config.name + "."):
            importlib.import_module(module.name)
def tool(name):
    last = name.rsplit(".", 1)[-1]
    return name.split(".")[0] == "bench" or last in ("bench", "seed_scale") or last.startswith(("_bench", "_scale"))
print(sorted(name for name in sys.modules if tool(name)))
"""


def manage(*args: str, settings_module: str) -> str:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE=settings_module)
    done = subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout


def test_production_settings_install_no_app_from_bench():
    assert settings.SETTINGS_MODULE == "crm.settings"
    assert not apps.is_installed("bench")
    assert not [c.name for c in apps.get_app_configs() if Path(c.path).resolve().is_relative_to(BENCH_DIR)]


def test_production_has_no_benchmark_or_seed_scale_command():
    assert not TOOLS & set(get_commands())
    listed = manage("manage.py", "help", settings_module="crm.settings").split()
    assert "seed_demo" in listed
    assert not TOOLS & set(listed)


def test_importing_every_module_of_the_production_apps_imports_nothing_of_bench():
    assert manage("-c", IMPORT_ALL, settings_module="crm.settings").strip() == "[]"


def test_the_bench_settings_add_the_development_commands():
    listed = manage("manage.py", "help", settings_module="bench.settings").split()
    assert set(listed) >= TOOLS
