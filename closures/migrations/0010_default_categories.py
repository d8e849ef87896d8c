"""The categories that were fixed in code become ReasonCategory rows with the same keys and labels,
so no reason, closure, tally, export or link changes meaning; and "Other" no longer implies notes:
the reasons in it that did not say so get notes_required, so closing with them still asks for notes.

Idempotent (keyed by the category key); an existing row's labels are left as an Admin set them.
"""

from django.db import migrations

# key, English, Chinese (the labels of closures.models.Category and the zh_Hans catalogue), order
DEFAULT_CATEGORIES = [
    ("competitor", "Competitor", "竞争对手", 10),
    ("price", "Price", "价格", 20),
    ("service", "Service", "服务", 30),
    ("product", "Product", "产品", 40),
    ("moved", "Moved away", "迁居外地", 50),
    ("deceased", "Deceased", "已故", 60),
    ("inactivity", "Inactivity", "长期未活跃", 70),
    ("duplicate", "Duplicate record", "重复记录", 80),
    ("data_error", "Data error", "数据错误", 90),
    ("customer_request", "Customer request", "客户要求", 100),
    ("other", "Other", "其他", 999),
]


def forward(apps, schema_editor):
    ReasonCategory = apps.get_model("closures", "ReasonCategory")
    ClosureReason = apps.get_model("closures", "ClosureReason")
    Closure = apps.get_model("closures", "Closure")
    for key, label_en, label_zh, order in DEFAULT_CATEGORIES:
        ReasonCategory.objects.get_or_create(
            key=key, defaults={"label_en": label_en, "label_zh": label_zh, "display_order": order}
        )
    # A key no list knew (written around the form) still gets a row, labelled with itself.
    known = set(ReasonCategory.objects.values_list("key", flat=True))
    for model in (ClosureReason, Closure):
        for key in model.objects.order_by().values_list("category", flat=True).distinct():
            if key and key not in known:
                ReasonCategory.objects.create(key=key[:40], label_en=key, display_order=1000)
                known.add(key)
    ClosureReason.objects.filter(category="other", notes_required=False).update(notes_required=True)


class Migration(migrations.Migration):
    dependencies = [("closures", "0009_reason_categories")]
    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
