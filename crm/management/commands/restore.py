"""`manage.py restore PATH`: put a backup made by `manage.py backup` back (see crm/management/backups.py)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.db.migrations.executor import MigrationExecutor

from crm.management import backups


class Command(BaseCommand):
    help = (
        "Replace the whole database with a backup made by `manage.py backup` (pg_restore --clean in one "
        "transaction for PostgreSQL, the backup API for SQLite). Stop the app servers and workers first."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file (.dump for PostgreSQL, .sqlite3 for SQLite).")
        parser.add_argument("--database", default="default", help="Database alias (default: default).")
        parser.add_argument("--database-url", help="Restore into this database instead of a configured one.")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, path, database="default", database_url=None, interactive=True, **options):
        target = backups.Target(database, database_url)
        backups.check_file(target, path)
        if interactive:
            answer = input(
                f"This replaces everything in the {target.label} with {path}.\n"
                "Every change made since that backup is lost. Type 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled; nothing was changed.")
        backups.restore(target, path)
        self.stdout.write(self.style.SUCCESS(f"Restored the {target.label} from {path}."))
        if target.alias is not None:
            self._report(target.alias)

    def _report(self, alias: str) -> None:
        from crm.models import AuditEntry

        executor = MigrationExecutor(connections[alias])
        if executor.migration_plan(executor.loader.graph.leaf_nodes()):
            self.stdout.write(
                self.style.WARNING("The backup predates some migrations: run `manage.py migrate` before serving.")
            )
            return
        self.stdout.write(f"The audit trail holds {AuditEntry.objects.using(alias).count()} entries.")
