"""Generated customer numbers for an import's new rows (the upload's "Generate customer numbers").

With the option a row without a customer number (or a file without that column) is a new card
with the next generated number: CUSTOMER_NO_PREFIX and CUSTOMER_NO_DIGITS digits, from the one
generator the card form uses (customers.numbers), never a number in use nor one the file itself
names. Without the option such a row is a problem, as it always was.
"""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.models import AuditEntry
from customers import imports, numbers
from customers.models import Customer
from tests.concurrency import run_together
from tests.factories import CustomerFactory, UserFactory
from tests.fixtures.customer_files import HEADER, csv_bytes, row

pytestmark = pytest.mark.django_db

IMPORT = reverse("customers:import")
CONFIRM = reverse("customers:import_confirm")
NO_NUMBER = HEADER[1:]  # a file without the customer_no column


def upload(client, data: bytes, *, generate: bool):
    options = {"generate_numbers": "on"} if generate else {}
    return client.post(IMPORT, {"file": SimpleUploadedFile("new.csv", data), **options})


def test_without_the_option_a_row_without_a_number_is_a_problem_that_says_how_to_get_one(admin_client):
    response = upload(admin_client, csv_bytes([row(1, customer_no="")]), generate=False)

    (problem,) = response.context["report"].problems
    assert (problem.line, problem.column) == (2, "customer_no")
    assert "tick “Generate customer numbers”" in problem.message
    assert response.context["upload"] is None


def test_the_preview_says_how_many_numbers_will_be_generated_and_draws_none(admin_client, fresh_numbers):
    rows = [row(1, customer_no=""), row(2), row(3, customer_no="")]

    response = upload(admin_client, csv_bytes(rows), generate=True)

    report = response.context["report"]
    assert report.ok and report.created == 3 and report.generated == 2
    assert "2 new customers have no customer number; they will get generated ones." in response.content.decode()
    assert numbers.next_customer_no() == "C000001"  # the preview took nothing from the sequence


def test_the_import_gives_each_new_row_the_next_free_number_and_lists_them(admin_client, fresh_numbers):
    CustomerFactory(customer_no="C000001")  # in use: skipped
    rows = [row(1, customer_no=""), row(2, customer_no="C000003"), row(3, customer_no=""), row(4, customer_no="")]
    preview = upload(admin_client, csv_bytes(rows), generate=True)

    response = admin_client.post(CONFIRM, {"upload": preview.context["upload"].upload_id}, follow=True)

    by_phone = dict(Customer.objects.values_list("phone", "customer_no"))
    # C000003 is the file's own number for row 2: no other row may be given it.
    assert [by_phone[f"+86139{n:08d}"] for n in (1, 2, 3, 4)] == ["C000002", "C000003", "C000004", "C000005"]
    page = response.content.decode()
    assert "3 customer numbers were generated: C000002, C000004, C000005." in page
    assert response.redirect_chain[-1][0].endswith(
        f"?batch={Customer.objects.get(customer_no='C000002').import_batch_id}"
    )
    entry = AuditEntry.objects.get(action="customer.import")
    assert entry.changes["generated"] == [None, 3]


def test_the_result_lists_the_generated_numbers(admin_user, fresh_numbers):
    report = imports.import_customers(
        io.BytesIO(csv_bytes([row(1, customer_no=""), row(2, customer_no="")])),
        "new.csv",
        user=admin_user,
        commit=True,
        generate_numbers=True,
    )

    assert report.written
    assert report.generated_numbers == ["C000001", "C000002"]
    created = Customer.objects.get(customer_no="C000001")
    assert created.import_batch_id == report.batch_id


def test_a_file_without_the_number_column_is_all_new_cards_when_the_option_is_on(admin_user, fresh_numbers):
    data = csv_bytes([row(1), row(2)], header=NO_NUMBER, raw_rows=[[row(n)[h] for h in NO_NUMBER] for n in (1, 2)])

    report = imports.import_customers(io.BytesIO(data), "new.csv", user=admin_user, commit=True, generate_numbers=True)

    assert report.written, report.problems
    assert sorted(Customer.objects.values_list("customer_no", flat=True)) == ["C000001", "C000002"]


def test_the_prefix_and_digits_come_from_the_settings_for_imports_and_the_card_form(
    settings, admin_user, admin_client, fresh_numbers
):
    settings.CUSTOMER_NO_PREFIX, settings.CUSTOMER_NO_DIGITS = "KH", 4
    CustomerFactory(customer_no="KH0001")

    report = imports.import_customers(
        io.BytesIO(csv_bytes([row(1, customer_no="")])), "new.csv", user=admin_user, commit=True, generate_numbers=True
    )
    form = {"name": "王芳", "segment": "potential", "stage": "prospect", "balance": "0", "points": "0"}
    admin_client.post(reverse("customers:create"), form)

    assert report.generated_numbers == ["KH0002"]
    assert Customer.objects.get(name="王芳").customer_no == "KH0003"


def test_the_generator_skips_numbers_in_use_and_numbers_reserved(fresh_numbers):
    for number in ("C000001", "C000002"):
        CustomerFactory(customer_no=number)

    assert numbers.next_customer_nos(3, reserved={"C000004"}) == ["C000003", "C000005", "C000006"]


def test_the_generator_is_asked_once_a_chunk_for_as_many_numbers_as_rows_without_one(
    admin_user, fresh_numbers, monkeypatch
):
    calls = []
    real = numbers.next_customer_nos

    def counting(count, **kwargs):
        calls.append((count, set(kwargs.get("reserved", ()))))
        return real(count, **kwargs)

    monkeypatch.setattr(numbers, "next_customer_nos", counting)
    rows = [row(1, customer_no=""), row(2, customer_no="KEEP-2"), row(3, customer_no="")]

    imports.import_customers(io.BytesIO(csv_bytes(rows)), "n.csv", user=admin_user, commit=True, generate_numbers=True)

    assert calls == [(2, {"KEEP-2"})]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_imports_generating_numbers_at_the_same_moment_never_collide():
    admin = UserFactory(role="Admin")
    CustomerFactory(customer_no="C000001")

    def run(first):
        rows = [row(n, customer_no="") for n in range(first, first + 300)]
        return imports.import_customers(
            io.BytesIO(csv_bytes(rows)), "n.csv", user=admin, commit=True, generate_numbers=True
        )

    one, two = run_together(lambda: run(1), lambda: run(1000))

    assert one.written and two.written, (one.file_errors, two.file_errors)
    generated = Customer.objects.exclude(customer_no="C000001").values_list("customer_no", flat=True)
    assert len(set(generated)) == 600
    assert all(number.startswith("C") and len(number) == 7 for number in generated)
