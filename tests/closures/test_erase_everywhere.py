"""Erasure finds every copy of the card's personal data, not only the card's own rows.

Reproduction: a card imported as "Original Secretname", edited, imported again with a corrected
name, then erased: the earlier name stayed in the audit trail (imports wrote no entry per card),
an Admin's export of a search for it kept the name in its audit entry and its job, and the export
file itself stayed on disk for good.
"""

import io
from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from closures import erasure
from closures.rules import ClosureChoice
from crm import forget
from crm.models import AuditEntry, Job
from customers import gate, imports
from customers.models import Customer
from tests.factories import CustomerFactory
from tests.fixtures.customer_files import csv_bytes

from .steps import reason

pytestmark = pytest.mark.django_db
SECRET = "Original Secretname"


def _import(rows, user, name="people.csv"):
    data = csv_bytes([], header=["customer_no", "name", "phone"], raw_rows=rows)
    report = imports.import_customers(io.BytesIO(data), name, user=user, commit=True)
    assert report.written, report.problems


def _erase(card, admin_user, capture):
    with capture(execute=True):
        erasure.erase_customer(
            card, ClosureChoice("erase", reason("erasure-request")), by=admin_user, confirmation=card.customer_no
        )


def _everything_in_the_audit_trail() -> str:
    return " ".join(str(row) for row in AuditEntry.objects.values_list("summary", "changes", "data", "notes", "reason"))


@pytest.fixture
def migrated(admin_user, admin_client, settings, django_capture_on_commit_callbacks):
    """The reproduction's card, and an Admin's export of a search for it, run as a job."""
    _import([["SEC-0001", SECRET, "13812345678"]], admin_user)
    card = Customer.objects.get(customer_no="SEC-0001")
    gate.update_card(card, {"name": "Edited Secretname"}, by=admin_user, source=gate.FORM)
    _import([["SEC-0001", "Corrected Secretname", "13812345678"]], admin_user, name="corrected.csv")
    settings.CUSTOMER_EXPORT_DIRECT_MAX_ROWS = 0  # the export runs as a job, its file kept on disk
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.get(reverse("customers:export"), {"q": "Corrected Secretname", "format": "csv"})  # finds it
    # an earlier export of a search for the card's first name, which found it then
    params = {"filters": {"q": [SECRET]}, "language": "en"}
    Job.objects.create(kind=Job.Kind.CUSTOMERS_XLSX, created_by=admin_user, params=params, state=Job.State.DONE)
    return Customer.objects.get(pk=card.pk)


def test_no_name_the_card_ever_had_is_left_in_the_audit_trail(migrated, admin_user, django_capture_on_commit_callbacks):
    assert SECRET in _everything_in_the_audit_trail()
    _erase(migrated, admin_user, django_capture_on_commit_callbacks)
    trail = _everything_in_the_audit_trail()
    for name in (SECRET, "Edited Secretname", "Corrected Secretname", "13812345678"):
        assert name not in trail


def test_the_export_that_named_the_card_loses_its_file_and_its_search(
    migrated, admin_user, admin_client, django_capture_on_commit_callbacks
):
    job, empty = Job.objects.get(kind=Job.Kind.CUSTOMERS_CSV), Job.objects.get(kind=Job.Kind.CUSTOMERS_XLSX)
    path = job.file.name
    assert forget.names_customer(path, "sec-0001")
    other = CustomerFactory(customer_no="SEC-0002", name="Someone Else")
    other_job = Job.objects.create(kind=Job.Kind.CUSTOMERS_CSV, created_by=admin_user, state=Job.State.DONE)
    other_job.file.save("others.csv", ContentFile(b"customer_no,name\r\nSEC-0002,Someone Else\r\nSEC-00010,x\r\n"))
    other_job.finished_at = timezone.now()
    other_job.save()

    _erase(migrated, admin_user, django_capture_on_commit_callbacks)

    job.refresh_from_db()
    assert not job.file and job.result["file_removed"] == "erased"
    page = admin_client.get(reverse("jobs:status", args=[job.pk])).content.decode()
    assert "This file was deleted because it held the personal data of a customer who has since been erased" in page
    assert not forget.default_storage.exists(path)
    empty.refresh_from_db()
    assert "Secretname" not in str(job.params) + str(empty.params)
    other_job.refresh_from_db()
    assert other_job.file and forget.default_storage.exists(other_job.file.name)
    assert Customer.objects.get(pk=other.pk).name == "Someone Else"


def test_an_upload_waiting_for_confirmation_that_names_the_card_is_discarded(
    admin_client, admin_user, django_capture_on_commit_callbacks
):
    card = CustomerFactory(customer_no="SEC-0003", name="Waiting Person")
    naming = csv_bytes([], header=["customer_no", "name"], raw_rows=[["sec-0003", "Waiting Person Renamed"]])
    other = csv_bytes([], header=["customer_no", "name"], raw_rows=[["SEC-0004", "Not Them"]])
    first = admin_client.post(reverse("customers:import"), {"file": SimpleUploadedFile("a.csv", naming)})
    second = admin_client.post(reverse("customers:import"), {"file": SimpleUploadedFile("b.csv", other)})
    kept, untouched = first.context["upload"], second.context["upload"]

    _erase(card, admin_user, django_capture_on_commit_callbacks)

    assert not forget.default_storage.exists(kept.path)
    assert forget.default_storage.exists(untouched.path)


def test_djangos_admin_log_keeps_no_name_of_the_card(admin_user, django_capture_on_commit_callbacks):
    card = CustomerFactory(customer_no="SEC-0005", name="Logged Name")
    LogEntry.objects.create(
        user=admin_user,
        content_type=ContentType.objects.get_for_model(Customer),
        object_id=str(card.pk),
        object_repr=str(card),
        action_flag=CHANGE,
        change_message='[{"changed": {"fields": ["Name"]}}]',
    )
    _erase(card, admin_user, django_capture_on_commit_callbacks)
    assert "Logged Name" not in str(list(LogEntry.objects.values_list("object_repr", "change_message")))


def test_expired_export_files_leave_the_disk_when_the_next_job_starts(admin_user, settings):
    old = Job.objects.create(kind=Job.Kind.CUSTOMERS_CSV, created_by=admin_user, state=Job.State.DONE)
    old.file.save("old.csv", ContentFile(b"customer_no\r\nX1\r\n"))
    old.finished_at = timezone.now() - timedelta(hours=settings.EXPORT_FILE_TTL_HOURS + 1)
    old.save()
    path = old.file.name

    assert forget.purge_expired_files() == 1

    old.refresh_from_db()
    assert not old.file and not forget.default_storage.exists(path)
    assert old.result["file_removed"] == "expired"
