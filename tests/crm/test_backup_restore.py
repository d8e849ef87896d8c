"""`make backup` / `make restore`: a restore brings back the same rows and the same audit trail."""

import os
import stat
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from unittest import mock

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from crm import audit
from crm.management import backups
from crm.models import AuditEntry
from customers.models import Customer
from tests.factories import CustomerFactory, InteractionFactory, PurchaseFactory

AUDIT_COLUMNS = (
    "id, at, actor_id, actor_name, ip, action, object_type, object_id, customer_id, summary, changes, reason, notes"
)


def _tables() -> list[str]:
    return sorted({m._meta.db_table for m in apps.get_models() if m._meta.managed and m._meta.app_label != "sessions"})


def _state(cursor) -> tuple[dict[str, int], list[tuple]]:
    """Row counts of every table, and the whole audit trail, read through a DB-API cursor."""
    counts = {}
    for table in _tables():
        cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 (table names from the models)
        counts[table] = cursor.fetchone()[0]
    columns = AUDIT_COLUMNS.replace("changes", "CAST(changes AS TEXT)")  # one JSON decoding for every driver
    cursor.execute(f"SELECT {columns} FROM crm_auditentry ORDER BY id")  # noqa: S608
    return counts, [tuple(_plain(v) for v in row) for row in cursor.fetchall()]


def _plain(value) -> str:
    # Connections may differ in session time zone; compare instants, not their renderings.
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _django_state():
    with connection.cursor() as cursor:
        return _state(cursor)


def _some_history(admin_user, staff_user):
    customers = CustomerFactory.create_batch(3, owner=staff_user)
    for customer in customers:
        PurchaseFactory(customer=customer, amount=Decimal("88.00"))
        InteractionFactory(customer=customer, by=staff_user)
        audit.record("customer.create", actor=staff_user, obj=customer, customer_id=customer.pk, summary=customer.name)
    audit.record(
        "customer.update",
        actor=admin_user,
        obj=customers[0],
        customer_id=customers[0].pk,
        changes={"phone": ["+8613800000000", customers[0].phone]},
        notes='<b>html</b> and 引号 "quotes"',
    )
    return customers


def _change_everything(customers, admin_user):
    Customer.objects.filter(pk=customers[0].pk).delete()  # cascades to its purchases and interactions
    CustomerFactory.create_batch(2)
    audit.record("customer.update", actor=admin_user, customer_id=customers[1].pk, notes="after the backup")


# --- SQLite ---------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_a_sqlite_restore_brings_back_the_same_rows_and_audit_trail(transactional_db, admin_user, staff_user, tmp_path):
    customers = _some_history(admin_user, staff_user)
    before = _django_state()
    path = tmp_path / "before.sqlite3"

    call_command("backup", str(path))
    assert path.read_bytes().startswith(backups.SQLITE_MAGIC)

    _change_everything(customers, admin_user)
    assert _django_state() != before

    call_command("restore", str(path), interactive=False)
    after = _django_state()
    assert after[0] == before[0]
    assert after[1] == before[1]
    assert after[0]["customers_customer"] == 3
    assert len(after[1]) >= 4


@pytest.mark.sqlite
def test_a_backup_file_is_readable_by_its_owner_only(transactional_db, tmp_path):
    path = tmp_path / "b.sqlite3"
    call_command("backup", str(path))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.sqlite
def test_backups_go_to_backup_dir_with_a_timestamped_name(transactional_db, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKUP_DIR", str(tmp_path / "nightly"))
    call_command("backup")
    [written] = list((tmp_path / "nightly").iterdir())
    assert written.suffix == ".sqlite3"
    assert written.stem[:8].isdigit()
    assert stat.S_IMODE(os.stat(tmp_path / "nightly").st_mode) == 0o700


def test_the_default_backup_directory_is_backups_in_the_project(monkeypatch):
    monkeypatch.delenv("BACKUP_DIR", raising=False)
    target = backups.Target()
    path = backups.default_path(target)
    assert path.parent == Path(settings.BASE_DIR) / "backups"
    assert path.suffix == {"sqlite": ".sqlite3", "postgresql": ".dump"}[target.vendor]


@pytest.mark.sqlite
def test_a_backup_never_overwrites_a_file(transactional_db, tmp_path):
    path = tmp_path / "exists.sqlite3"
    path.write_bytes(b"precious")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(path))
    assert path.read_bytes() == b"precious"


@pytest.mark.sqlite
def test_a_sqlite_backup_refuses_to_run_inside_a_transaction_instead_of_waiting_forever(db, tmp_path):
    # The per-test transaction holds SQLite's lock; the backup API would retry for ever.
    with pytest.raises(CommandError, match="inside a transaction"):
        call_command("backup", str(tmp_path / "b.sqlite3"))
    assert not list(tmp_path.iterdir())


@pytest.mark.sqlite
def test_a_sqlite_backup_gives_up_when_the_database_stays_locked(transactional_db, tmp_path, monkeypatch):
    import sqlite3

    source = tmp_path / "busy.sqlite3"
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("CREATE TABLE t (x)")
    writer.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(backups, "BUSY_SECONDS", 0.3)
    try:
        with pytest.raises(CommandError, match="stayed locked"):
            call_command("backup", str(tmp_path / "copy.sqlite3"), database_url=f"sqlite:///{source}")
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert not (tmp_path / "copy.sqlite3").exists()
    assert not (tmp_path / "copy.sqlite3.partial").exists()


def test_backing_up_a_sqlite_file_that_does_not_exist_is_refused(tmp_path):
    missing = tmp_path / "missing.sqlite3"
    with pytest.raises(CommandError, match="No SQLite database"):
        call_command("backup", str(tmp_path / "b.sqlite3"), database_url=f"sqlite:///{missing}")
    assert not missing.exists()
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"PGDMP\x01\x0e\x00", "is a postgresql backup"), (b"hello, world", "neither")],
    ids=["other-database-kind", "not-a-backup"],
)
def test_restore_refuses_a_file_that_is_not_a_backup_of_this_database(db, tmp_path, content, message):
    if connection.vendor == "postgresql":
        content = content.replace(b"PGDMP", b"SQLite format 3\x00")
        message = message.replace("postgresql", "sqlite")
    path = tmp_path / "suspicious.bin"
    path.write_bytes(content)
    with pytest.raises(CommandError, match=message):
        call_command("restore", str(path), interactive=False)


def test_restore_refuses_a_missing_file(db, tmp_path):
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore", str(tmp_path / "nope.dump"), interactive=False)


@pytest.mark.sqlite
def test_restore_asks_first_and_changes_nothing_without_a_yes(transactional_db, admin_user, tmp_path):
    path = tmp_path / "b.sqlite3"
    call_command("backup", str(path))
    audit.record("customer.update", actor=admin_user, notes="made after the backup")
    with mock.patch("builtins.input", return_value="no"), pytest.raises(CommandError, match="cancelled"):
        call_command("restore", str(path))
    assert AuditEntry.objects.filter(notes="made after the backup").exists()


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture
def scratch_database():
    """An empty PostgreSQL database of our own, dropped afterwards."""
    import psycopg

    name = f"crm_restore_{uuid.uuid4().hex[:10]}"
    admin = {k: v for k, v in connection.settings_dict.items() if k in ("HOST", "PORT", "USER", "PASSWORD")}
    params = {"host": admin.get("HOST") or None, "port": admin.get("PORT") or None, "user": admin.get("USER")}
    params = {k: v for k, v in params.items() if v}
    if admin.get("PASSWORD"):
        params["password"] = admin["PASSWORD"]
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name, params
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _scratch_url(name: str, params: dict) -> str:
    user = params.get("user", "postgres")
    password = f":{params['password']}" if params.get("password") else ""
    return f"postgres://{user}{password}@{params.get('host', '127.0.0.1')}:{params.get('port', 5432)}/{name}"


@pytest.mark.postgres
def test_a_postgresql_restore_brings_back_the_same_rows_and_audit_trail(
    transactional_db, admin_user, staff_user, tmp_path, scratch_database
):
    import psycopg

    name, params = scratch_database
    url = _scratch_url(name, params)
    customers = _some_history(admin_user, staff_user)
    before = _django_state()
    path = tmp_path / "before.dump"

    call_command("backup", str(path))
    assert path.read_bytes().startswith(backups.PG_MAGIC)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600

    call_command("restore", str(path), database_url=url, interactive=False)
    with psycopg.connect(dbname=name, **params) as conn, conn.cursor() as cursor:
        assert _state(cursor) == before
        # Change the restored copy the way a bad day would, then restore over it.
        cursor.execute("DELETE FROM customers_purchase")
        cursor.execute(
            "INSERT INTO crm_auditentry (at, actor_name, action, object_type, object_id, summary, changes, data,"
            " reason, notes) VALUES (now(), 'x', 'forged', 'x', '', '', '{}', '{}', '', '')"
        )
        conn.commit()
        assert _state(cursor) != before

    call_command("restore", str(path), database_url=url, interactive=False)
    with psycopg.connect(dbname=name, **params) as conn, conn.cursor() as cursor:
        assert _state(cursor) == before
        # The append-only trigger came back with the table.
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            cursor.execute("DELETE FROM crm_auditentry")

    # And restoring over the live database itself, as `make restore` does.
    _change_everything(customers, admin_user)
    assert _django_state() != before
    call_command("restore", str(path), interactive=False)
    assert _django_state() == before


@pytest.mark.postgres
def test_a_failed_postgresql_restore_changes_nothing(transactional_db, admin_user, tmp_path, scratch_database):
    name, params = scratch_database
    url = _scratch_url(name, params)
    audit.record("customer.update", actor=admin_user, notes="kept")
    path = tmp_path / "good.dump"
    call_command("backup", str(path))
    call_command("restore", str(path), database_url=url, interactive=False)

    truncated = tmp_path / "truncated.dump"
    truncated.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])
    with pytest.raises(CommandError, match="pg_restore failed"):
        call_command("restore", str(truncated), database_url=url, interactive=False)

    import psycopg

    with psycopg.connect(dbname=name, **params) as conn:
        notes = [row[0] for row in conn.execute("SELECT notes FROM crm_auditentry")]
    assert "kept" in notes


def test_the_password_reaches_pg_dump_through_the_environment_not_the_command_line(tmp_path):
    target = backups.Target(url="postgres://crm:s3cret@db.example.com:5433/crm?sslmode=require")
    env = target.libpq_env()
    assert (env["PGPASSWORD"], env["PGHOST"], env["PGPORT"], env["PGSSLMODE"]) == (
        "s3cret",
        "db.example.com",
        "5433",
        "require",
    )
    with mock.patch("subprocess.run") as run, mock.patch("shutil.which", return_value="/usr/bin/pg_dump"):
        run.return_value.returncode = 0
        backups.backup(target, tmp_path / "x.dump")
    assert not any("s3cret" in str(arg) for arg in run.call_args.args[0])
