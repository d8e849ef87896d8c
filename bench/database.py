"""The benchmark's database: created, migrated and seeded when needed, and the data it draws from
(cards to look up and to close, search terms of the data set itself)."""

import os
import random
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import OperationalError

from .lib import Unavailable


def ensure_database(stdout) -> None:
    """Create the database (UTF-8, a locale pg_trgm understands) and migrate it when needed."""
    try:
        connection.ensure_connection()
    except OperationalError as exc:
        if "does not exist" not in str(exc):
            raise
        import psycopg
        from psycopg import sql

        params = connection.get_connection_params()
        name = params.pop("dbname")
        params.pop("cursor_factory", None)
        params.pop("context", None)
        with psycopg.connect(**params, dbname="postgres", autocommit=True) as admin:
            for locale in ("C.UTF-8", "en_US.UTF-8", None):
                create = "CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'"
                if locale:
                    create += f" LC_COLLATE '{locale}' LC_CTYPE '{locale}'"
                try:
                    admin.execute(sql.SQL(create).format(sql.Identifier(name)))
                    stdout.write(f"Created database {name} ({locale or 'server default locale'}).")
                    break
                except psycopg.errors.InvalidParameterValue:
                    continue
        connection.close()
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        stdout.write("Migrating the benchmark database ...")
        call_command("migrate", interactive=False, verbosity=0)


def ensure_static() -> None:
    """Pages render {% static %} through the hashed manifest when DEBUG is off, as in production."""
    from django.contrib.staticfiles.storage import staticfiles_storage

    manifest = getattr(staticfiles_storage, "manifest_name", None)
    if manifest and not staticfiles_storage.exists(manifest):
        call_command("collectstatic", interactive=False, verbosity=0)


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child `manage.py` (seed_scale, bench --child): this one, on the settings
    this process runs on (bench.settings: crm.settings alone has neither command)."""
    return dict(os.environ, DJANGO_SETTINGS_MODULE=settings.SETTINGS_MODULE, **extra)


def seed(stdout, customers: int, closures: int) -> None:
    """seed_scale in a child process (it lowers its own CPU priority; the measurements must not inherit it)."""
    command = [sys.executable, "manage.py", "seed_scale", "--customers", str(customers), "--closures", str(closures)]
    done = subprocess.run(command, cwd=settings.BASE_DIR, env=child_env(), check=False)  # noqa: S603 (our own command)
    if done.returncode:
        raise CommandError("seed_scale failed; see above.")
    stdout.flush()


def sample(sql: str, params=(), limit: int = 2000) -> list[tuple]:
    """Rows from a random sample of pages (TABLESAMPLE), so picks are spread over the table."""
    with connection.cursor() as cursor:
        cursor.execute(sql + f" LIMIT {int(limit)}", params)
        rows = cursor.fetchall()
    random.Random(len(rows)).shuffle(rows)
    return rows


def fresh_cards(count: int) -> list[int]:
    """Active cards that can be closed at once: no balance or points to settle, no pending request,
    no open ticket (whose fate the confirmation would ask for: closures/tickets.py)."""
    rows = sample(
        """SELECT c.id FROM customers_customer c TABLESAMPLE SYSTEM (2)
           WHERE c.status = 'active' AND c.balance = 0 AND c.points = 0 AND c.segment <> 'key'
             AND NOT EXISTS (SELECT 1 FROM closures_closurerequest r
                             WHERE r.customer_id = c.id AND r.state = 'pending')
             AND NOT EXISTS (SELECT 1 FROM service_ticket t
                             WHERE t.customer_id = c.id
                               AND t.status IN ('new', 'assigned', 'in_progress', 'waiting'))""",
        limit=count * 2,
    )
    return [row[0] for row in rows][:count]


def name_terms() -> dict[str, str]:
    """A frequent and a rare Chinese search term of 1, 2 and 3 characters, from the data itself."""
    terms = {}
    with connection.cursor() as cursor:
        for size in (1, 2):
            cursor.execute(
                """SELECT gram, count(*) FROM customers_namegram
                   WHERE char_length(gram) = %s AND gram ~ %s GROUP BY gram ORDER BY 2 DESC, 1""",
                [size, "^[\u4e00-\u9fff]+$"],
            )
            rows = cursor.fetchall()
            if not rows:
                raise Unavailable("the name-gram table is empty")
            terms[f"{size}char_frequent"] = rows[0][0]
            terms[f"{size}char_rare"] = next((g for g, n in reversed(rows) if n >= 1), rows[-1][0])
        cursor.execute(
            """SELECT lower(name), count(*) FROM customers_customer
               WHERE char_length(name) = 3 AND name ~ %s AND status = 'active' GROUP BY 1 ORDER BY 2 DESC, 1""",
            ["^[\u4e00-\u9fff]{3}$"],
        )
        rows = cursor.fetchall()
    if not rows:
        raise Unavailable("no three-character Chinese names")
    terms["3char_frequent"] = rows[0][0]
    terms["3char_rare"] = rows[-1][0]
    return terms


def connection_count(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {table}")
        return cursor.fetchone()[0]
