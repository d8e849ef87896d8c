"""The project's own system checks, against the database the suite runs on."""

import pytest
from django.core import checks


@pytest.mark.django_db
def test_the_database_checks_raise_no_warning():
    """What `migrate` (and so `make run`) prints before migrating: nothing, on SQLite and PostgreSQL."""
    messages = checks.run_checks(databases=["default"])
    assert [m for m in messages if m.level >= checks.WARNING and not m.is_silenced()] == []
