"""The insights objects the URL walk needs: a retention callback assigned to the staff user."""

from datetime import timedelta

from django.utils import timezone

from insights.models import RetentionAction


def extend(world) -> None:
    world.retention_callback = RetentionAction.objects.create(
        customer=world.customer,
        kind=RetentionAction.Kind.CALLBACK,
        assigned_to=world.staff_user,
        due_on=timezone.localdate() + timedelta(days=1),
        created_by=world.manager_user,
    )
