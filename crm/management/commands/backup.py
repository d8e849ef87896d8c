"""`manage.py backup [PATH]`: a complete backup of the database (see crm/management/backups.py)."""

from django.core.management.base import BaseCommand

from crm.management import backups


class Command(BaseCommand):
    help = (
        "Back up the whole database: pg_dump (custom format) for PostgreSQL, the online backup API for "
        "SQLite. Writes BACKUP_DIR/<timestamp>.dump|.sqlite3 (default ./backups) unless a path is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="Where to write the backup (never overwritten).")
        parser.add_argument("--database", default="default", help="Database alias (default: default).")
        parser.add_argument("--database-url", help="Back up this database instead of a configured one.")

    def handle(self, *args, path=None, database="default", database_url=None, **options):
        target = backups.Target(database, database_url)
        written = backups.backup(target, path or backups.default_path(target))
        size_mb = written.stat().st_size / 1024 / 1024
        self.stdout.write(self.style.SUCCESS(f"Backed up the {target.label} to {written} ({size_mb:.1f} MB)."))
        return None
