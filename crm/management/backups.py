"""Backing up and restoring the whole database (`make backup`, `make restore FILE=...`).

PostgreSQL goes through pg_dump's custom format and pg_restore, the tools that know every
object the migrations create (the audit trigger, the name-search table and its trigger,
partial unique indexes). SQLite goes through sqlite3's online backup API, which copies a
consistent snapshot page by page even while the app is writing; copying the file could catch
it half-written. Connection details come from the configured database (DATABASE_URL) or an
explicit URL, and reach libpq through environment variables, so the password never appears in
a command line that `ps` would show.

Backups hold every customer's personal data: files are created readable by their owner only.
"""

import os
import shutil
import sqlite3
import subprocess  # noqa: S404 (fixed argument lists, no shell)
import time
from pathlib import Path

import dj_database_url
from django.conf import settings
from django.core.management.base import CommandError
from django.db import connections

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"
EXTENSIONS = {"postgresql": "dump", "sqlite": "sqlite3"}
BUSY_SECONDS = 60

# Django settings -> libpq environment variables (https://www.postgresql.org/docs/current/libpq-envars.html).
_LIBPQ_ENV = {"HOST": "PGHOST", "PORT": "PGPORT", "USER": "PGUSER", "PASSWORD": "PGPASSWORD", "NAME": "PGDATABASE"}
_LIBPQ_OPTIONS = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
    "connect_timeout": "PGCONNECT_TIMEOUT",
    "options": "PGOPTIONS",
    "application_name": "PGAPPNAME",
}


class Target:
    """One database to back up or restore: a configured alias, or a URL given on the command line."""

    def __init__(self, alias: str = "default", url: str | None = None):
        if url:
            self.alias = None
            self.settings = dj_database_url.parse(url)
        else:
            if alias not in settings.DATABASES:
                raise CommandError(f"No database called {alias!r} in the settings.")
            self.alias = alias
            self.settings = settings.DATABASES[alias]
        engine = self.settings["ENGINE"]
        if "postgresql" in engine:
            self.vendor = "postgresql"
        elif "sqlite3" in engine:
            self.vendor = "sqlite"
        else:
            raise CommandError(f"Backups support PostgreSQL and SQLite, not {engine}.")

    @property
    def label(self) -> str:
        name = str(self.settings.get("NAME") or "")
        host = self.settings.get("HOST") or ""
        return f"{self.vendor} database {name!r}" + (f" on {host}" if host else "")

    def libpq_env(self) -> dict[str, str]:
        env = dict(os.environ)
        for key, var in _LIBPQ_ENV.items():
            if self.settings.get(key):
                env[var] = str(self.settings[key])
        for key, var in _LIBPQ_OPTIONS.items():
            if (self.settings.get("OPTIONS") or {}).get(key):
                env[var] = str(self.settings["OPTIONS"][key])
        return env

    def require_existing_sqlite_file(self) -> None:
        """Connecting would create an empty database, and back it up as if all were well."""
        if self.alias is not None and connections[self.alias].is_in_memory_db():
            return
        name = str(self.settings["NAME"])
        if name != ":memory:" and not Path(name).is_file():
            raise CommandError(f"No SQLite database at {name}.")

    def sqlite_connection(self) -> tuple[sqlite3.Connection, bool]:
        """(connection, close_after): Django's own for an alias (so an in-memory database works too)."""
        if self.alias is not None:
            django_connection = connections[self.alias]
            if django_connection.in_atomic_block:
                raise CommandError("Cannot back up or restore SQLite from inside a transaction.")
            django_connection.ensure_connection()
            return django_connection.connection, False
        return sqlite3.connect(str(self.settings["NAME"]), timeout=1), True


def _sqlite_copy(source: sqlite3.Connection, destination: sqlite3.Connection) -> None:
    """The backup API waits while another connection holds a lock; give up after BUSY_SECONDS."""
    deadline = time.monotonic() + BUSY_SECONDS

    def give_up_when_late(status, remaining, total):
        if time.monotonic() > deadline:
            raise CommandError(f"The SQLite database stayed locked for {BUSY_SECONDS} s; nothing was copied.")

    source.backup(destination, progress=give_up_when_late)


def default_path(target: Target, directory: str | os.PathLike | None = None) -> Path:
    directory = Path(directory or os.environ.get("BACKUP_DIR") or settings.BASE_DIR / "backups")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return directory / f"{stamp}.{EXTENSIONS[target.vendor]}"


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise CommandError(f"{tool} is not installed (Debian: apt-get install postgresql-client).")
    return path


def backup(target: Target, path: Path) -> Path:
    """Write a complete, consistent backup of ``target`` to ``path`` (never overwriting a file)."""
    path = Path(path)
    if path.exists():
        raise CommandError(f"{path} already exists; backups never overwrite a file.")
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        if target.vendor == "postgresql":
            with os.fdopen(fd, "wb") as out:
                result = subprocess.run(  # noqa: S603
                    [_require("pg_dump"), "--format=custom", "--no-password"],
                    stdout=out,
                    stderr=subprocess.PIPE,
                    env=target.libpq_env(),
                    check=False,
                )
            if result.returncode != 0:
                raise CommandError(f"pg_dump failed: {result.stderr.decode(errors='replace').strip()}")
        else:
            os.close(fd)
            target.require_existing_sqlite_file()
            source, close_source = target.sqlite_connection()
            destination = sqlite3.connect(partial)
            try:
                _sqlite_copy(source, destination)
            finally:
                destination.close()
                if close_source:
                    source.close()
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return path


def check_file(target: Target, path: Path) -> None:
    """Refuse a file that is missing or is not a backup of the target's kind of database."""
    path = Path(path)
    if not path.is_file():
        raise CommandError(f"No backup file at {path}.")
    with path.open("rb") as f:
        head = f.read(16)
    kind = "postgresql" if head.startswith(PG_MAGIC) else "sqlite" if head.startswith(SQLITE_MAGIC) else None
    if kind is None:
        raise CommandError(f"{path} is neither a pg_dump custom-format file nor a SQLite database.")
    if kind != target.vendor:
        raise CommandError(f"{path} is a {kind} backup; the database to restore is {target.vendor}.")


def restore(target: Target, path: Path) -> None:
    """Replace the target's contents with the backup, all or nothing."""
    path = Path(path)
    check_file(target, path)
    if target.vendor == "postgresql":
        if target.alias is not None:
            connections[target.alias].close()  # no idle session of ours holding locks on the tables
        result = subprocess.run(  # noqa: S603
            [
                _require("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-acl",
                "--single-transaction",
                "--exit-on-error",
                "--no-password",
                f"--dbname={target.settings['NAME']}",
                str(path),
            ],
            capture_output=True,
            env=target.libpq_env(),
            check=False,
        )
        if result.returncode != 0:
            raise CommandError(f"pg_restore failed: {result.stderr.decode(errors='replace').strip()}")
        return
    source = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    destination, close_destination = target.sqlite_connection()
    try:
        _sqlite_copy(source, destination)
    finally:
        source.close()
        if close_destination:
            destination.close()
