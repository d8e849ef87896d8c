"""Every page in Chinese shows no untranslated interface text.

The URL × role walk (tests/access) renders every GET page as an Admin and as a Staff member with
the language zh-hans; :func:`visible_text` takes what a reader sees (text nodes, and the title,
placeholder, aria-label and alt attributes, and the value of submit buttons), :func:`latin_words`
drops user data (the world's names, numbers, emails, usernames, tags, notes ...: every value of
:data:`DATA_FIELDS` in the database) and a few fixed tokens (:data:`ALLOWED`), and what is left, a
word of two or more Latin letters, is English that someone forgot to mark or translate.
"""

import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from followups.messages import PLACEHOLDERS
from tests.access.routes import Route
from tests.access.world import build_world
from tests.crm.test_url_access import ROUTES
from tests.factories import InteractionFactory, PurchaseFactory

pytestmark = pytest.mark.django_db

# Words that are the same in Chinese: names of formats, encodings, units, products and protocols (API,
# Webhook: Chinese software writes them so), and "English" in
# the language menu.
ALLOWED = frozenset(
    {
        "CSV",
        "Excel",
        "ID",
        "IP",
        "MB",
        "GBK",
        "UTF",
        "VIP",
        "xlsx",
        "csv",
        "English",
        "CRM",
        "PDF",
        "SLA",
        "RFM",
        "API",
        "Webhook",
        "CIDR",
        "JSON",
        "POST",
    }
)
# Words a page quotes as what a file may hold (the import of past closures reads close, void, archive).
_ACTION_CODES = frozenset({"close", "void", "archive"})
# The placeholders a message template is written with ({name}, {settlement}), listed on its page.
_PLACEHOLDERS = frozenset(PLACEHOLDERS)
PAGE_ALLOWED = {
    "closures:import": _ACTION_CODES,
    "closures:import_confirm": _ACTION_CODES,  # (back on its page)
    "followups:policy_template": _PLACEHOLDERS,
    # The words a pasted holiday line and a tickets file are read with (“2027-02-07 调休 working”; step kinds).
    "service:calendar": frozenset({"working"}),
    "service:holiday_add": frozenset({"working"}),
    "service:import": frozenset({"work", "note", "reply"}),
    "service:import_confirm": frozenset({"work", "note", "reply"}),
    # The scoring settings name what an Admin overrides: the signals' keys in INSIGHTS_RISK_WEIGHTS, the
    # models' parameter names (BG/NBD alpha) and where the settings are documented (the README).
    # What the URL walk typed into the token form (an IP range "bad", a role "nope"), shown back with its error,
    # and where the integration guide is (docs/integration.md).
    "integration:token_create": frozenset({"bad", "nope"}),
    "integration:webhook_list": frozenset({"docs"}),
    "integration:webhook_edit": frozenset({"docs"}),
    "insights:settings": frozenset(
        {"overdue", "fewer", "spending", "quieter", "fading", "value", "alpha", "BG", "README"}
    ),
}

# The fields whose values are user data (shown as typed, in any language).
DATA_FIELDS = {
    "auth.User": ("username", "first_name", "last_name", "email"),
    "customers.Customer": (
        "customer_no",
        "name",
        "email",
        "phone",
        "wechat",
        "city",
        "address",
        "company",
        "title",
        "occupation",
        "preferences",
        "source",
    ),
    "customers.Tag": ("name",),
    "customers.ImportBatch": ("file_name",),
    "customers.Purchase": ("product",),
    "customers.Interaction": ("summary", "outcome"),
    "closures.ClosureReason": ("code", "label_en", "label_zh"),  # the reason list shows both labels
    "closures.ReasonCategory": ("key", "label_en", "label_zh"),
    "closures.Closure": ("notes", "settlement_note", "revert_note", "performed_by_name"),
    "closures.ClosureRequest": ("notes",),
    # What a mail server answered (a failed message's last error) and what callers typed.
    "followups.Followup": ("last_error", "note", "address"),
    "followups.Answer": ("other_reason", "come_back"),
    # What was typed on a ticket and the file names of its attachments.
    "service.Ticket": ("number", "subject", "need"),
    "service.Step": ("content", "result", "attachment_name"),
    "crm.Team": ("name_en", "name_zh"),
    "service.Category": ("key", "label_en", "label_zh"),  # the settings page shows both labels
    "service.WorkingCalendar": ("time_zone",),
    "service.Holiday": ("name",),
    "api.ApiToken": ("name", "allowed_ips"),
    "api.WebhookEndpoint": ("name", "url"),
    "api.WebhookDelivery": ("last_error",),
    "privacy.DataRequest": ("customer_no", "notes", "outcome"),  # how a request came in, its answer
}

_SKIPPED = {"script", "style", "template"}
_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}
_CODE = re.compile(r"\S+@\S+|https?://\S+|/\S*|[A-Za-z0-9]*(?:\d|_)[A-Za-z0-9_]*")  # emails, URLs, paths, codes
_WORD = re.compile(r"[A-Za-z]{2,}")


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIPPED:
            self._skipping += 1
            return
        values = dict(attrs)
        self.parts += [value for name, value in attrs if name in _ATTRIBUTES and value]
        if tag == "input" and values.get("type") in ("submit", "button", "reset") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag):
        if tag in _SKIPPED and self._skipping:
            self._skipping -= 1

    def handle_data(self, data):
        if not self._skipping and data.strip():
            self.parts.append(data.strip())


def visible_text(html: str) -> list[str]:
    """The texts a reader sees or hears on the page (no scripts, styles or machine attributes)."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser.parts


def latin_words(texts: list[str], allowed: frozenset[str] | set[str]) -> list[str]:
    """Every word of 2+ Latin letters in ``texts`` that is neither allowed nor part of a code or address."""
    found = []
    for text in texts:
        for word in _WORD.findall(_CODE.sub(" ", text)):
            if word not in allowed and word not in ALLOWED:
                found.append(word)
    return found


def message_words() -> set[str]:
    """The words of the message templates and their beginnings: the policy page quotes the English
    messages (English whoever reads it), cut short to a line."""
    words: set[str] = set()
    for row in apps.get_model("followups.MessageTemplate").objects.values_list("subject", "body"):
        for word in re.findall(r"[A-Za-z]+", " ".join(row)):
            words.update(word[:end] for end in range(2, len(word) + 1))
    return words


def user_data_words() -> set[str]:
    """Every Latin word of every user-data value in the database (see DATA_FIELDS)."""
    words: set[str] = set()
    for label, fields in DATA_FIELDS.items():
        for row in apps.get_model(label).objects.values_list(*fields):
            for value in row:
                words.update(re.findall(r"[A-Za-z]+", str(value or "")))
    return words


def _call(client: Client, route: Route, world):
    url = reverse(route.name, kwargs=route.kwargs(world))
    url = f"{url}?{route.query}" if route.query else url
    return client.post(url, route.data(world), follow=True) if route.method == "POST" else client.get(url)


def _untranslated_pages(role: str, world) -> tuple[int, dict[str, list[str]]]:
    """(pages rendered, {page: untranslated words}) of every page ``role`` may see, in Chinese."""
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(getattr(world, f"{role}_user"))
    before = user_data_words()
    pages = []
    # Every GET page, then the pages a POST answers with (a preview, a form with its errors, or the
    # page it redirects to with its message); the POSTs come last: they change the world the GETs show.
    for route in sorted((r for r in ROUTES if role in r.allowed), key=lambda r: r.method != "GET"):
        pages.append((f"{route.method} {route.name}?{route.query}", _call(client, route, world), route.name))
    for name in EXTRA_CARDS:  # the cards in their other states
        card = reverse("customers:card", args=[getattr(world, name).pk])
        pages.append((f"card of {name}", client.get(card), ""))
    pages.append(("a page not found", client.get(reverse("customers:card", args=[0])), ""))
    if role != "admin":
        pages.append(("a page refused", client.get(reverse("users:list")), ""))
    data = before | user_data_words()  # what the POSTs wrote is user data too
    rendered, found = 0, {}
    for page, response, name in pages:
        if response.status_code not in (200, 403, 404) or not response["Content-Type"].startswith("text/html"):
            continue
        rendered += 1
        allowed = (
            data | PAGE_ALLOWED.get(name, set()) | (message_words() if name.startswith("followups:policy") else set())
        )
        words = latin_words(visible_text(response.content.decode()), allowed)
        if words:
            found[page] = sorted(set(words))
    return rendered, found


@pytest.fixture
def world(staff_user, manager_user, admin_user):
    """The walk's world, with a card that has something in every panel: purchases, interactions,
    tags, an edit in its history (the closed and the requested cards have their closure panels)."""
    from customers import gate, ledger

    world = build_world(staff_user, manager_user, admin_user)
    PurchaseFactory(customer=world.customer, amount=Decimal("1234.50"))
    InteractionFactory(customer=world.customer, by=staff_user)
    gate.update_card(
        world.customer,
        {"city": "杭州", "tags": ["老客户"]},
        by=manager_user,
        source=gate.FORM,
    )
    ledger.post(world.customer, "top_up", amount=Decimal("88.00"), method="cash", by=manager_user)
    return world


EXTRA_CARDS = ("closed_customer", "requested_customer", "batch_customer")


@pytest.mark.parametrize("role", ["admin", "manager", "staff"])
def test_every_page_is_in_chinese(role, world):
    rendered, found = _untranslated_pages(role, world)

    assert rendered >= 10
    assert not found, "untranslated words on pages rendered in Chinese:\n" + "\n".join(
        f"  {page}: {' '.join(words)}" for page, words in sorted(found.items())
    )


def test_the_pages_anyone_may_see_are_in_chinese(db):
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    found = {}
    for name in ("login", "password_reset_complete"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        words = latin_words(visible_text(response.content.decode()), set())
        if words:
            found[name] = words
    assert not found


# --- the extractor itself --------------------------------------------------------------------------------
SAMPLE = """<html><head><title>客户</title><style>.a { color: red }</style></head><body>
<script>var greeting = "Hello";</script>
<h1>客户 Customers</h1>
<a href="/customers/1/" title="Open card">C000123</a> zhang.wei@example.cn
<input type="search" placeholder="Search" value="张伟 Zhang">
<button type="submit" name="format" value="xlsx">导出到 Excel</button>
<input type="submit" value="Save">
<img src="x.png" alt="Logo"><span aria-label="Close">×</span>
<p>customer_no, 2026-03-05, ¥1,000.50, 客户 Alice Smith</p>
</body></html>"""


def test_the_extractor_finds_untranslated_text_and_nothing_else():
    words = latin_words(visible_text(SAMPLE), {"Alice", "Smith"})

    assert sorted(words) == ["Close", "Customers", "Logo", "Open", "Save", "Search", "card"]


def test_the_walk_fails_on_a_page_with_a_string_nobody_translated(world, monkeypatch):
    """A label left in English on a real page is found, with its page."""
    monkeypatch.setattr("django.templatetags.i18n.TranslateNode.render", _untranslating("Search customers"))

    _rendered, found = _untranslated_pages("staff", world)

    assert {"Search", "customers"} <= set(found["GET customers:search?"])


def _untranslating(msgid: str):
    """A {% translate %} that leaves ``msgid`` in English (as if it were missing from the catalogue)."""
    from django.templatetags.i18n import TranslateNode

    original = TranslateNode.render

    def render(self, context):
        if getattr(self.filter_expression.var, "literal", None) == msgid:
            return msgid
        return original(self, context)

    return render
