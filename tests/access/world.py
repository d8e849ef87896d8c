"""The objects the URL walk needs: one of each thing a URL can point at.

Each app may add its own objects in tests/access/<app>_world.py with ``extend(world)``.
"""

import importlib
import pkgutil
from types import SimpleNamespace

from django.core.files.base import ContentFile
from django.utils import timezone

import tests.access as access_pkg
from crm.models import Job
from tests.factories import CustomerFactory


def build_world(staff_user, manager_user, admin_user) -> SimpleNamespace:
    world = SimpleNamespace(staff_user=staff_user, manager_user=manager_user, admin_user=admin_user)
    world.customer = CustomerFactory(owner=staff_user)
    world.job = Job(kind="closures_xlsx", created_by=admin_user, state=Job.State.DONE, finished_at=timezone.now())
    world.job.file.save("closures.xlsx", ContentFile(b"PK-not-really-a-workbook"), save=False)
    world.job.save()
    for module in pkgutil.iter_modules(access_pkg.__path__):
        if module.name.endswith("_world"):
            importlib.import_module(f"tests.access.{module.name}").extend(world)
    return world
