"""One date format per language on every page, and amounts with the currency sign and the locale's grouping."""

import datetime as dt
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from crm.formatting import money
from tests.factories import ClosureFactory, CustomerFactory, InteractionFactory, PurchaseFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("crm", "customers", "closures", "analytics")

# The format names of crm/formats/<language>/formats.py: a template shows dates through these only.
FORMAT_NAMES = {
    "DATE_FORMAT",
    "DATETIME_FORMAT",
    "SHORT_DATE_FORMAT",
    "SHORT_DATETIME_FORMAT",
    "YEAR_MONTH_FORMAT",
    "MONTH_DAY_FORMAT",
    "TIME_FORMAT",
}
# A hard-coded format is allowed only where a machine reads it: a date input's value, a <time>'s
# datetime attribute, a URL's query.
MACHINE_USE = re.compile(r'(value|datetime|href)="[^"]*\|(date|time):"[^"]+"')


def test_templates_show_dates_only_in_the_languages_formats():
    hard_coded = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for found in re.finditer(r'\|(date|time):"([^"]+)"', line):
                if found.group(2) not in FORMAT_NAMES and not MACHINE_USE.search(line):
                    hard_coded.append(f"{path.relative_to(ROOT)}:{number}: {found.group(0)}")
    assert not hard_coded, "display dates with a hard-coded format (use |date or a format name):\n" + "\n".join(
        hard_coded
    )


def test_python_shows_dates_only_in_the_languages_formats():
    hard_coded = []
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            for found in re.finditer(r"date_format\([^,()]+,\s*[\"']([^\"']+)[\"']", text):
                if found.group(1) not in FORMAT_NAMES:
                    hard_coded.append(f"{path.relative_to(ROOT)}: {found.group(0)}")
    assert not hard_coded, "\n".join(hard_coded)


def test_the_date_check_catches_a_hard_coded_display_format():
    line = '<dd>{{ customer.created_at|date:"Y-m-d" }}</dd>'
    found = re.search(r'\|(date|time):"([^"]+)"', line)
    assert found.group(2) not in FORMAT_NAMES and not MACHINE_USE.search(line)
    assert MACHINE_USE.search('<input type="date" value="{{ day|date:"Y-m-d" }}">')


# Any way a date can be written: ISO, with 年月日, with slashes or dots, or with an English month name.
DATE_SHAPES = {
    "iso": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "chinese": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日"),
    "slashes": re.compile(r"\b\d{1,4}[/.]\d{1,2}[/.]\d{2,4}\b"),
    "english": re.compile(r"\b(Jan|Feb|Mar|Apr|May|June?|July?|Aug|Sept?|Oct|Nov|Dec)[a-z]*\.? \d{1,2}, \d{4}"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_card_writes_every_date_one_way(language, manager_client, manager_user):
    customer = CustomerFactory(birth_date=dt.date(1985, 3, 21), customer_since=dt.date(2019, 3, 1))
    PurchaseFactory(customer=customer, purchased_on=dt.date(2026, 1, 5))
    InteractionFactory(customer=customer, by=manager_user)
    ClosureFactory(customer=customer, performed_by=manager_user, balance_at_closure=Decimal("10"))
    customer.status = customer.Status.CLOSED
    customer.save(update_fields=["status"])

    page = manager_client.get(reverse("customers:card", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE=language)

    text = re.sub(r"<[^>]+>", " ", page.content.decode())  # what is shown, not attributes
    shapes = {name for name, shape in DATE_SHAPES.items() if shape.search(text)}
    assert shapes == {"iso"}
    assert "1985-03-21" in text and "2019-03-01" in text and "2026-01-05" in text
    times = re.findall(r"\b\d{4}-\d{2}-\d{2}( \d{2}:\d{2}(:\d{2})?)?", text)
    assert {len(t[0]) for t in times if t[0]} == {6}  # every date-time as "YYYY-MM-DD HH:MM", no seconds


# --- money --------------------------------------------------------------------------------------
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_money_filter_writes_the_sign_the_grouping_and_two_decimals(language):
    template = Template("{% load money %}{{ a|money }} {{ b|money }} {{ c|money }} {{ d|money }}[{{ e|money }}]")
    context = Context({"a": Decimal("1000.55"), "b": Decimal("-12"), "c": 1234567, "d": "0.5", "e": None})
    with translation.override(language):
        assert template.render(context) == "¥1,000.55 -¥12.00 ¥1,234,567.00 ¥0.50[]"


def test_the_currency_sign_is_a_setting(settings):
    settings.CRM_CURRENCY_SYMBOL = "HK$"
    assert money(Decimal("-1234.5")) == "-HK$1,234.50"


def test_chinese_groups_amounts_by_three_digits_with_a_comma():
    """Django's own zh_Hans formats group by four digits without a separator; crm/formats does not."""
    with translation.override("zh-hans"):
        assert money(Decimal("12345678.9")) == "¥12,345,678.90"
        assert Template("{% load humanize %}{{ n|intcomma }}").render(Context({"n": 1234567})) == "1,234,567"


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_card_shows_balance_purchases_and_total_as_money(language, staff_client):
    customer = CustomerFactory(balance=Decimal("1200.50"))
    PurchaseFactory(customer=customer, amount=Decimal("1234.50"))
    customer.refresh_from_db()

    page = staff_client.get(reverse("customers:card", args=[customer.pk]), HTTP_ACCEPT_LANGUAGE=language)

    content = page.content.decode()
    assert "¥1,200.50" in content and "¥1,234.50" in content
    assert money(customer.purchase_total) in content


@pytest.mark.django_db
def test_a_balance_in_a_closure_message_reads_as_money():
    from closures import rules

    customer = CustomerFactory(balance=Decimal("1500"), points=0)
    with pytest.raises(Exception) as refused:
        rules.check_money(customer, rules.ClosureChoice("close", None))
    assert "¥1,500.00" in str(refused.value)


def test_the_date_formats_are_one_per_language():
    from django.utils.formats import get_format

    for language in ("en", "zh-hans"):
        with translation.override(language):
            assert get_format("DATE_FORMAT") == get_format("SHORT_DATE_FORMAT")
            assert get_format("DATETIME_FORMAT") == get_format("SHORT_DATETIME_FORMAT")
            assert timezone.now().strftime("%Y") in Template("{{ d|date }}").render(Context({"d": timezone.now()}))
