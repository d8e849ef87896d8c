"""The Chinese catalogue uses one word per idea: the README's glossary, checked against every entry.

"Closure" (the four ways a card leaves daily work) is 注销; 销卡 is the close action only. The
glossary table in README.md ("Chinese vocabulary") is the source; these tests read it.
"""

import gettext
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MO = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.mo"
README = ROOT / "README.md"


def glossary() -> dict[str, str]:
    """English term -> Chinese term, from the README's "Chinese vocabulary" table."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Chinese vocabulary", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| ([^|]+?) \| ([^|]+?) \| [^|]+ \|$", section, re.M)
    return {en: zh for en, zh in rows if en not in ("English", "---")}


def catalogue() -> dict[str, str]:
    """msgid -> msgstr (every plural form joined) of the compiled catalogue."""
    with MO.open("rb") as handle:
        raw = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001 (the whole catalogue, no API for it)
    entries: dict[str, str] = {}
    for key, text in raw.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if msgid:
            entries[msgid] = " ".join(filter(None, (entries.get(msgid), text)))
    return entries


def mentions(term: str, msgid: str) -> bool:
    return re.search(rf"\b{re.escape(term)}s?\b", msgid, re.I) is not None


def test_the_glossary_names_closure_and_the_close_action_apart():
    words = glossary()
    assert words["closure"] == "注销"
    assert words["close card"] == "销卡"
    assert words["closure reason"].startswith(words["closure"])
    assert len(glossary_pairs()) >= 12


def glossary_pairs() -> list[tuple[str, str]]:
    """Every (English, Chinese) pair of the glossary; "Staff / Manager / Admin" is three pairs."""
    pairs = []
    for en, zh in glossary().items():
        pairs += zip(en.split(" / "), zh.split(" / "), strict=True)
    return pairs


@pytest.mark.parametrize(("term", "chinese"), glossary_pairs())
def test_every_entry_that_says_a_glossary_term_uses_its_chinese_word(term, chinese):
    wrong = {msgid: text for msgid, text in catalogue().items() if mentions(term, msgid) and chinese not in text}
    assert not wrong, f"{term!r} should read {chinese!r} in:\n" + "\n".join(f"  {k} => {v}" for k, v in wrong.items())


def test_the_close_actions_word_never_stands_for_a_closure():
    """An entry about closures says 注销; 销卡 appears only where the entry is about the close action."""
    close = glossary()["close card"]
    close_action = re.compile(r"\b(close card|close|closed|closing)\b", re.I)
    wrong = {
        msgid: text
        for msgid, text in catalogue().items()
        if close in text and (re.search(r"closures?\b", msgid, re.I) or not close_action.search(msgid))
    }
    assert not wrong, "销卡 used for something other than the close action:\n" + "\n".join(
        f"  {k} => {v}" for k, v in wrong.items()
    )


def test_the_dashboard_counts_closures_by_action_not_close_card_by_action():
    entries = catalogue()
    assert entries["Closures by action"] == "按操作统计注销"
    assert entries["Close card"] == "销卡"
    assert entries["Closures"] == "注销记录"
