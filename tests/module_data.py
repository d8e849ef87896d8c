"""Data a whole test module reads, written once instead of once per test.

``kept_for_module`` opens a transaction that stays open while the module's tests run; each test then
runs in a savepoint inside it (pytest-django's ``django_db``), so what a test changes is undone after
it and the shared data is rolled back at the module's end. For data that is slow to make (seed_demo,
seed_scale) and only read, or changed and put back by the savepoint. Such a module is marked
``xdist_group`` so that one worker runs all of it and makes the data once (``make test`` runs
``--dist loadgroup``).
"""

from __future__ import annotations

import contextlib

from django.db import transaction


@contextlib.contextmanager
def kept_for_module(django_db_blocker):
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
