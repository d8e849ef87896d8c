"""Read replica support.

With DATABASE_REPLICA_URL set, analytics and exports read through ``reporting_db()``
(the replica); everything else, and every write, uses the primary.
"""

from django.conf import settings


def reporting_db() -> str:
    """The alias heavy read-only reports (dashboard, closure list, exports) should use."""
    return "replica" if "replica" in settings.DATABASES else "default"


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"
