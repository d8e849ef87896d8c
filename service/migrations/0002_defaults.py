"""The default ticket categories (bilingual), SLA targets per priority and the working week
(Monday to Friday, 9:00–18:00, Asia/Shanghai). Public holidays are data an Admin enters each year
(the State Council publishes the next year's schedule in the autumn), so none are assumed here."""

from django.db import migrations

CATEGORIES = [
    ("complaint", "Complaint", "投诉"),
    ("repair", "Repair", "维修"),
    ("return", "Return or refund", "退换货/退款"),
    ("enquiry", "Enquiry", "咨询"),
    ("billing", "Billing", "账单"),
    ("other", "Other", "其他"),
]
HOUR = 60
DAY = 9 * HOUR  # a working day of the default calendar
# priority: (first response, resolution), in working minutes
TARGETS = {
    "urgent": (1 * HOUR, 1 * DAY),
    "high": (2 * HOUR, 2 * DAY),
    "normal": (1 * DAY, 5 * DAY),
    "low": (2 * DAY, 10 * DAY),
}


def forward(apps, schema_editor):
    Category = apps.get_model("service", "Category")
    SlaPolicy = apps.get_model("service", "SlaPolicy")
    WorkingCalendar = apps.get_model("service", "WorkingCalendar")
    for position, (key, en, zh) in enumerate(CATEGORIES):
        Category.objects.get_or_create(key=key, defaults={"label_en": en, "label_zh": zh, "position": position})
    for priority, (first, resolution) in TARGETS.items():
        if not SlaPolicy.objects.filter(priority=priority, category__isnull=True, active=True).exists():
            SlaPolicy.objects.create(priority=priority, first_response_minutes=first, resolution_minutes=resolution)
    if not WorkingCalendar.objects.exists():
        WorkingCalendar.objects.create()


class Migration(migrations.Migration):
    dependencies = [("service", "0001_initial")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
