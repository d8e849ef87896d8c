"""Random input to the import: never a crash, never a half-written file (issue 7)."""

import io

import pytest
import tablib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from crm.models import AuditEntry
from customers import imports
from customers.columns import COLUMN_NAMES
from customers.models import Customer
from customers.phones import normalise_phone
from customers.resources import CustomerResource, PhoneWidget
from tests.fixtures.customer_files import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

cell = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", "13812345678", "1381234567", "+8613812345678", "重点客户", "key", "1985-03-21", "=1+2"]),
    st.integers(min_value=-10, max_value=10**12).map(str),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
)
columns = st.lists(st.sampled_from(COLUMN_NAMES), min_size=1, max_size=8, unique=True)


@st.composite
def files(draw):
    header = draw(columns)
    if draw(st.booleans()):
        header = ["customer_no", "name", *[c for c in header if c not in ("customer_no", "name")]]
    rows = draw(st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), max_size=6))
    return header, rows


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=files(), as_xlsx=st.booleans())
def test_random_files_never_crash_and_never_half_write(admin_user, data, as_xlsx):
    header, rows = data
    if as_xlsx:
        # Formula cells are tested elsewhere; control characters cannot be stored in a workbook at all.
        rows = [[ILLEGAL_CHARACTERS_RE.sub("", value).lstrip("=") for value in values] for values in rows]
        content, name = xlsx_bytes([], header=header, raw_rows=rows), "random.xlsx"
    else:
        content, name = csv_bytes([], header=header, raw_rows=rows), "random.csv"
    before = Customer.objects.count()
    audits = AuditEntry.objects.count()

    report = imports.import_customers(io.BytesIO(content), name, user=admin_user, commit=True)

    if report.written:
        assert report.ok
        assert Customer.objects.count() == before + report.created
        assert AuditEntry.objects.count() == audits + 1 + report.created + report.updated
    else:
        assert Customer.objects.count() == before
        assert AuditEntry.objects.count() == audits
        assert report.file_errors or report.problems


@settings(max_examples=30, deadline=None)
@given(st.from_regex(r"(\+86)?1[3-9][0-9]{9}", fullmatch=True))
def test_the_phone_shortcut_agrees_with_normalise_phone(number):
    widget = PhoneWidget()
    try:
        expected = normalise_phone(number)
    except Exception as error:
        with pytest.raises(ValueError, match=str(error.messages[0])[:20].replace("+", r"\+")):
            widget.clean(number)
    else:
        assert widget.clean(number) == expected


def test_the_phone_shortcut_agrees_with_normalise_phone_on_every_prefix():
    widget = PhoneWidget()
    for prefix in range(130, 200):
        number = f"{prefix}12345678"
        try:
            expected = normalise_phone(number)
        except Exception:
            expected = None
        try:
            got = widget.clean(number)
        except ValueError:
            got = None
        assert got == expected, number


def test_the_resource_never_writes_cards_around_the_card_gate(admin_user):
    dataset = tablib.Dataset(headers=["customer_no", "name"])
    dataset.append(["R1", "王芳"])
    with pytest.raises(NotImplementedError):
        CustomerResource().import_data(dataset)
    assert Customer.objects.count() == 0


@pytest.mark.parametrize("text", ["100000000000000000000000000", "1e30", "99999999999999999999999999.999"])
def test_an_enormous_balance_is_a_problem_of_its_cell_not_a_crash(text):
    from customers.resources import BalanceWidget

    with pytest.raises(ValueError, match="larger than the maximum"):
        BalanceWidget().clean(text)
