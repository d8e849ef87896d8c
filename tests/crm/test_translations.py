"""The Simplified Chinese catalogue is complete: every string the code marks is translated."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def _entries(text: str) -> list[tuple[str, str, bool]]:
    """(msgid, msgstr, fuzzy) for every entry but the header, plurals folded into msgstr[0]."""
    entries = []
    for block in text.split("\n\n"):
        fuzzy = "#, fuzzy" in block or ", fuzzy" in block
        msgid = "".join(re.findall(r'^(?:msgid|msgid_plural)? ?"(.*)"$', _section(block, "msgid"), re.M))
        msgstr = "".join(re.findall(r'"(.*)"', _section(block, "msgstr")))
        if msgid:
            entries.append((msgid, msgstr, fuzzy))
    return entries


def _section(block: str, keyword: str) -> str:
    lines, taking = [], False
    for line in block.splitlines():
        if line.startswith(keyword):
            taking = True
        elif line.startswith(("msgid", "msgstr", "#")) and not line.startswith(keyword):
            taking = False
        if taking:
            lines.append(line)
    return "\n".join(lines)


def test_every_entry_of_the_chinese_catalogue_is_translated():
    entries = _entries(PO.read_text(encoding="utf-8"))
    assert len(entries) > 300
    missing = [msgid for msgid, msgstr, fuzzy in entries if not msgstr or fuzzy]
    assert not missing, f"untranslated or fuzzy: {missing[:20]}"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="gettext's msgfmt is not installed")
def test_the_compiled_catalogue_is_up_to_date(tmp_path):
    """django.mo is what compilemessages (msgfmt) makes of django.po today."""
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(PO)], check=True)
    assert MO.read_bytes() == fresh.read_bytes(), "run `make messages` (or compilemessages) and commit django.mo"


@pytest.mark.skipif(shutil.which("xgettext") is None, reason="gettext's xgettext is not installed")
def test_the_catalogue_has_every_string_the_code_marks(tmp_path):
    """Extract the messages again into a scratch copy and compare the msgid sets."""
    scratch = tmp_path / "src"
    shutil.copytree(
        ROOT,
        scratch,
        ignore=shutil.ignore_patterns(".venv", ".git", "staticfiles", "var", "bench", "backups", "node_modules"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete", "--no-location"],
        cwd=scratch,
        check=True,
        capture_output=True,
        env={"DEBUG": "1", "PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "crm.settings"},
    )
    fresh = {m for m, _, _ in _entries((scratch / "locale/zh_Hans/LC_MESSAGES/django.po").read_text("utf-8"))}
    committed = {m for m, _, _ in _entries(PO.read_text(encoding="utf-8"))}
    assert not sorted(fresh - committed), "run `make messages` and translate the new strings"


def _marked_in_python() -> dict[str, str]:
    """msgid -> file, for every literal passed to gettext, gettext_lazy or _ in the apps' code,
    f-strings included (xgettext does not look inside them, so the test above cannot see those)."""
    import ast

    names = {"gettext", "gettext_lazy", "_", "pgettext", "pgettext_lazy"}
    found = {}
    for app in ("crm", "customers", "closures", "analytics"):
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                literal = node.args[-1] if name and name.startswith("pgettext") else node.args[0]
                if name in names and isinstance(literal, ast.Constant) and isinstance(literal.value, str):
                    found[literal.value] = str(path.relative_to(ROOT))
    return found


def test_every_string_marked_in_python_is_in_the_catalogue_f_strings_included():
    catalogue = {msgid.replace('\\"', '"').replace("\\n", "\n") for msgid, _msgstr, _fuzzy in _entries(PO.read_text())}
    marked = _marked_in_python()
    assert len(marked) > 100
    missing = {msgid: path for msgid, path in marked.items() if msgid not in catalogue}
    assert not missing, f"not in the catalogue (run `make messages`): {missing}"
