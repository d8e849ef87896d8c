"""The personal-data requests the URL walk opens: an access request whose identity was checked (with
an access export ready for the Admin to download once), one not checked yet, and an erasure request;
a retention rule, a finished retention run, and a card under a legal hold."""

import datetime as dt

from django.core.files.base import ContentFile
from django.utils import timezone

from crm.models import Job
from privacy import holds, requests
from privacy.models import DataRequest, RetentionRule
from tests.factories import CustomerFactory


def extend(world) -> None:
    today = timezone.localdate()
    admin = world.admin_user
    world.access_request = requests.register(world.customer, "access", today, "信件", by=admin)
    requests.check_identity(world.access_request, by=admin)
    world.unchecked_request = requests.register(
        world.customer, "correction", today - dt.timedelta(days=40), "", by=admin
    )
    world.erasure_request = requests.register(world.customer, DataRequest.Kind.ERASURE, today, "", by=admin)
    world.access_job = Job(
        kind=Job.Kind.PRIVACY_ACCESS,
        created_by=admin,
        state=Job.State.DONE,
        finished_at=timezone.now(),
        params={"request": world.access_request.pk, "format": "json"},
    )
    world.access_job.file.save("access.json", ContentFile(b"{}"), save=False)
    world.access_job.save()
    world.retention_rule = RetentionRule.objects.get(status="closed", action="erase")
    world.retention_job = Job.objects.create(
        kind=Job.Kind.PRIVACY_RETENTION,
        created_by=admin,
        state=Job.State.DONE,
        finished_at=timezone.now(),
        result={
            "rows": 2,
            "changed": 1,
            "rules": [
                {
                    "rule": world.retention_rule.pk,
                    "eligible": 2,
                    "held": {"money": 1},
                    "changed": 1,
                    "skipped": [["C000009", "选定后状态已变"]],
                    "skipped_count": 1,
                }
            ],
        },
    )
    world.hold_card = CustomerFactory(name="陈保留")
    world.hold = holds.place(world.hold_card, "税务审计", by=admin)
    world.free_card = CustomerFactory(name="陈自由")
