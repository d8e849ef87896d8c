"""The audit trail is append-only: in the admin, in the ORM and, on PostgreSQL, in the database."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.utils import timezone

from crm import audit
from crm.models import ERASED_MARKER, AuditEntry, Job
from tests.factories import UserFactory

ADMIN_URL = "/admin/crm/auditentry/"
on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (its trigger)")


@pytest.fixture
def entry(admin_user):
    return audit.record(
        "customer.update",
        actor=admin_user,
        object_type="customer",
        object_id=4711,
        customer_id=4711,
        summary="张伟 13812345678",
        changes={"phone": ["+8613812345678", "+8613900000000"]},
        notes="called 13812345678 about the card",
    )


@pytest.fixture
def superuser_client(db):
    user = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(user)
    return client


def _snapshot(pk):
    return AuditEntry.objects.filter(pk=pk).values().get()


# --- the admin --------------------------------------------------------------------------


def test_the_admin_lists_and_shows_audit_entries_to_superusers(superuser_client, entry):
    client = superuser_client
    listing = client.get(ADMIN_URL)
    assert listing.status_code == 200
    assert "customer.update" in listing.content.decode()
    detail = client.get(f"{ADMIN_URL}{entry.pk}/change/")
    assert detail.status_code == 200
    assert "+8613900000000" in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()


def test_the_admin_refuses_to_add_change_or_delete_audit_entries(superuser_client, entry):
    client = superuser_client
    before = _snapshot(entry.pk)
    assert client.get(f"{ADMIN_URL}add/").status_code == 403
    assert client.post(f"{ADMIN_URL}add/", {"action": "forged", "object_type": "x"}).status_code == 403
    assert client.post(f"{ADMIN_URL}{entry.pk}/change/", {"action": "edited", "notes": "x"}).status_code == 403
    assert client.get(f"{ADMIN_URL}{entry.pk}/delete/").status_code == 403
    assert client.post(f"{ADMIN_URL}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    client.post(ADMIN_URL, {"action": "delete_selected", "_selected_action": [entry.pk], "post": "yes"})
    assert _snapshot(entry.pk) == before
    assert AuditEntry.objects.filter(action="forged").count() == 0


def test_the_admin_offers_no_delete_action(superuser_client, entry):
    response = superuser_client.get(ADMIN_URL)
    assert "delete_selected" not in response.content.decode()


@pytest.mark.parametrize("who", ["staff_client", "manager_client", "admin_client"])
def test_no_role_opens_the_admin(who, entry, request):
    client = request.getfixturevalue(who)
    response = client.get(ADMIN_URL, follow=True)
    assert response.status_code == 403
    assert "customer.update" not in response.content.decode()


def test_the_admin_filters_audit_entries_by_action(superuser_client, entry, admin_user):
    admin_client = superuser_client
    audit.record("closure.close", actor=admin_user, object_type="closure", object_id=9, customer_id=88)
    response = admin_client.get(ADMIN_URL, {"action": "closure.close"})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(AuditEntry.objects.filter(action="closure.close"))


def test_the_admin_filters_audit_entries_by_actor_and_date(superuser_client, entry, admin_user, staff_user):
    admin_client = superuser_client
    audit.record("customer.create", actor=staff_user, object_type="customer", object_id=5, customer_id=5)
    by_actor = admin_client.get(ADMIN_URL, {"actor__id__exact": staff_user.pk})
    assert [e.actor_id for e in by_actor.context["cl"].result_list] == [staff_user.pk]
    old = AuditEntry.objects.create(action="customer.create", object_type="customer", at=entry.at - timedelta(days=400))
    today = timezone.localtime(entry.at)
    by_date = admin_client.get(ADMIN_URL, {"at__year": today.year, "at__month": today.month, "at__day": today.day})
    shown = {e.pk for e in by_date.context["cl"].result_list}
    assert entry.pk in shown
    assert old.pk not in shown


@pytest.mark.parametrize("term", ["4711", " 4711 "])
def test_the_admin_finds_entries_by_object_or_customer_id(superuser_client, entry, admin_user, term):
    admin_client = superuser_client
    audit.record("customer.update", actor=admin_user, object_type="customer", object_id=1, customer_id=1)
    response = admin_client.get(ADMIN_URL, {"q": term})
    assert [e.pk for e in response.context["cl"].result_list] == [entry.pk]


@pytest.mark.parametrize("term", ["abc", "' OR 1=1 --", "9" * 40, "<script>x</script>"])
def test_an_odd_search_in_the_admin_finds_nothing_and_never_fails(superuser_client, entry, term):
    admin_client = superuser_client
    response = admin_client.get(ADMIN_URL, {"q": term})
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == []


def test_jobs_are_read_only_in_the_admin_even_for_superusers(superuser_client, admin_user):
    job = Job.objects.create(kind="closures_xlsx", created_by=admin_user)
    assert superuser_client.get("/admin/crm/job/").status_code == 200
    assert superuser_client.get("/admin/crm/job/", {"q": "not-a-uuid"}).status_code == 200
    assert superuser_client.get("/admin/crm/job/", {"q": str(job.pk)}).context["cl"].result_list[0] == job
    assert superuser_client.get("/admin/crm/job/add/").status_code == 403
    assert superuser_client.post(f"/admin/crm/job/{job.pk}/change/", {"state": "done"}).status_code == 403
    assert superuser_client.post(f"/admin/crm/job/{job.pk}/delete/", {"post": "yes"}).status_code == 403
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED


def test_users_and_groups_are_managed_on_the_users_page_not_the_admin(superuser_client):
    assert superuser_client.get("/admin/auth/user/").status_code == 404
    assert superuser_client.get("/admin/auth/group/").status_code == 404


# --- the ORM ---------------------------------------------------------------------------


def test_saving_an_existing_entry_is_refused(entry):
    entry.notes = "rewritten"
    with pytest.raises(PermissionDenied):
        entry.save()
    entry.refresh_from_db()
    assert entry.notes == "called 13812345678 about the card"


def test_deleting_an_entry_is_refused(entry):
    with pytest.raises(PermissionDenied):
        entry.delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_updating_entries_in_bulk_is_refused(entry):
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.filter(pk=entry.pk).update(notes="rewritten")
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.all().update(action="x")
    assert _snapshot(entry.pk)["notes"] == "called 13812345678 about the card"


def test_deleting_entries_in_bulk_is_refused(entry):
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(PermissionDenied):
        AuditEntry.objects.all().delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_new_entries_can_still_be_added(entry, admin_user):
    audit.record("customer.view", actor=admin_user, object_type="customer", object_id=4711, customer_id=4711)
    assert AuditEntry.objects.for_customer(4711).count() == 2


def test_redaction_replaces_an_erased_customers_personal_values(entry, admin_user):
    other = audit.record("customer.update", actor=admin_user, object_type="customer", customer_id=1, notes="张伟")
    changed = AuditEntry.objects.redact_customer(4711, ["张伟", "+8613812345678", "13812345678", ""])
    assert changed == 1
    entry.refresh_from_db()
    assert entry.summary == f"{ERASED_MARKER} {ERASED_MARKER}"
    assert entry.changes == {"phone": [ERASED_MARKER, "+8613900000000"]}
    assert entry.notes == f"called {ERASED_MARKER} about the card"
    assert entry.action == "customer.update"
    other.refresh_from_db()
    assert other.notes == "张伟"  # another customer's entries are untouched


# --- the database (PostgreSQL's trigger) ------------------------------------------------------


@pytest.mark.postgres
@on_postgres
@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE crm_auditentry SET notes = 'rewritten' WHERE id = %s",
        "DELETE FROM crm_auditentry WHERE id = %s",
    ],
    ids=["update", "delete"],
)
def test_raw_sql_cannot_change_or_delete_an_entry(entry, sql):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [entry.pk])
    assert _snapshot(entry.pk)["notes"] == "called 13812345678 about the card"


@pytest.mark.postgres
@on_postgres
def test_raw_sql_cannot_empty_the_table_row_by_row(entry):
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM crm_auditentry")
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


@pytest.mark.postgres
@on_postgres
def test_redaction_passes_the_trigger_only_inside_its_own_transaction(transactional_db, entry):
    # transactional_db: inside the usual per-test transaction "its own transaction" would be a savepoint.
    with transaction.atomic():
        assert AuditEntry.objects.redact_customer(4711, ["13812345678"]) == 1
    entry.refresh_from_db()
    assert "13812345678" not in entry.notes
    # The permission was local to that transaction: a later raw update is refused again.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE crm_auditentry SET notes = 'x' WHERE id = %s", [entry.pk])
