"""Reason categories are data: Admins create, rename, order, retire and merge them on the Reasons page,
and everything that shows a category reads its label from closures.categories."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from closures import categories, category_ops
from closures.models import Closure, ClosureReason, ClosureStaffTally, ClosureTally, ReasonCategory
from crm.models import AuditEntry
from tests.factories import ClosureFactory, ClosureReasonFactory

from .test_tally import assert_tallies_match_a_recount

pytestmark = pytest.mark.django_db


def category(key, label_en="", label_zh="", **fields) -> ReasonCategory:
    return ReasonCategory.objects.create(key=key, label_en=label_en, label_zh=label_zh, **fields)


def edit(client, cat: ReasonCategory, **changes):
    data = {"label_en": cat.label_en, "label_zh": cat.label_zh, "display_order": cat.display_order}
    data.update({"is_active": "on"} if cat.is_active else {})
    data.update(changes)
    return client.post(
        reverse("closures:category_edit", args=[cat.pk]), {k: v for k, v in data.items() if v is not None}
    )


# --- reading them -----------------------------------------------------------------------------------


def test_labels_are_in_the_active_language_in_display_order_with_retired_ones():
    category("attitude", "Attitude", "态度", display_order=1)
    category("legacy", "Legacy", "旧类别", display_order=2, is_active=False)
    labels = categories.labels()
    assert list(labels)[:2] == ["attitude", "legacy"]
    assert labels["price"] == "Price" and labels["legacy"] == "Legacy"
    with translation.override("zh-hans"):
        assert categories.labels()["attitude"] == "态度"
        assert categories.label("price") == "价格"


def test_a_category_with_one_language_shows_it_in_both():
    category("english_only", label_en="Attitude")
    category("chinese_only", label_zh="态度问题")
    with translation.override("zh-hans"):
        assert categories.label("english_only") == "Attitude"
    assert categories.label("chinese_only") == "态度问题"


def test_choices_leave_retired_categories_out_unless_kept_and_unknown_keys_read_as_themselves():
    category("legacy", "Legacy", is_active=False)
    assert ("legacy", "Legacy") in categories.choices()
    assert "legacy" not in dict(categories.choices(include_retired=False))
    assert "legacy" in dict(categories.choices(include_retired=False, keep=("legacy",)))
    assert categories.label("no_such_key") == "no_such_key"


def test_a_request_reads_the_table_once_and_sees_a_category_saved_during_it(django_assert_num_queries):
    # What Django's request_started and request_finished signals call (sending them here would also
    # run close_old_connections, which closes the test's connection on PostgreSQL).
    categories._start()
    try:
        with django_assert_num_queries(1):
            categories.labels()
            categories.label("price")
            categories.choices(include_retired=False)
        category("attitude", "Attitude")
        assert categories.label("attitude") == "Attitude"
    finally:
        categories._finish()


# --- managing them on the Reasons page ---------------------------------------------------------------


def test_the_reasons_page_lists_the_categories_with_their_reasons(admin_client):
    response = admin_client.get(reverse("closures:reason_list"))
    page = response.content.decode()
    assert "Reason categories" in page
    assert "Customer request" in page and "customer_request" in page
    assert reverse("closures:category_merge", args=[ReasonCategory.objects.get(key="price").pk]) in page
    duplicate = ReasonCategory.objects.get(key="duplicate")
    assert reverse("closures:category_merge", args=[duplicate.pk]) not in page  # it cannot be merged


def test_admin_creates_a_category_and_reasons_can_use_it(admin_client, admin_user):
    response = admin_client.post(
        reverse("closures:category_create"),
        {"key": "attitude", "label_en": "Attitude", "label_zh": "态度", "display_order": "5", "is_active": "on"},
    )
    assert response.status_code == 302
    created = ReasonCategory.objects.get(key="attitude")
    assert (created.label_en, created.label_zh, created.display_order) == ("Attitude", "态度", 5)
    entry = AuditEntry.objects.get(action="category.create")
    assert entry.actor == admin_user and entry.changes["label_zh"] == [None, "态度"]
    form = admin_client.get(reverse("closures:reason_create")).context["form"]
    assert ("attitude", "Attitude") in form.fields["category"].choices


def test_a_key_is_made_from_the_label_when_left_empty_and_never_changes(admin_client):
    admin_client.post(
        reverse("closures:category_create"), {"label_en": "Bad Attitude", "display_order": "5", "is_active": "on"}
    )
    created = ReasonCategory.objects.get(label_en="Bad Attitude")
    assert created.key == "bad_attitude"
    response = edit(admin_client, created, key="renamed", label_en="Poor attitude")
    assert response.status_code == 302
    created.refresh_from_db()
    assert (created.key, created.label_en) == ("bad_attitude", "Poor attitude")


def test_a_taken_key_is_refused_next_to_the_field(admin_client):
    response = admin_client.post(
        reverse("closures:category_create"), {"key": "price", "label_en": "Cost", "display_order": "5"}
    )
    assert response.context["form"].errors["key"] == ["Another category already has the key “price”."]


def test_admin_renames_in_both_languages_and_reorders_and_the_change_is_audited(admin_client):
    price = ReasonCategory.objects.get(key="price")
    response = edit(admin_client, price, label_en="Pricing", label_zh="定价", display_order="1")
    assert response.status_code == 302
    price.refresh_from_db()
    assert (price.label_en, price.label_zh, price.display_order) == ("Pricing", "定价", 1)
    assert list(categories.labels())[0] == "price"
    entry = AuditEntry.objects.get(action="category.update")
    assert entry.changes == {"label_en": ["Price", "Pricing"], "label_zh": ["价格", "定价"], "display_order": [20, 1]}


def test_retiring_a_category_with_active_reasons_is_refused_with_the_count(admin_client):
    moved = ReasonCategory.objects.get(key="moved")
    response = edit(admin_client, moved, is_active=None)
    assert response.status_code == 200
    active = ClosureReason.objects.active().filter(category="moved").count()
    assert f"{active} active reasons are in this category" in response.content.decode()
    moved.refresh_from_db()
    assert moved.is_active


def test_a_retired_category_is_not_offered_to_new_reasons_but_stays_on_its_own(admin_client):
    legacy = category("legacy", "Legacy")
    response = edit(admin_client, legacy, is_active=None)
    assert response.status_code == 302
    legacy.refresh_from_db()
    assert not legacy.is_active
    old = ClosureReasonFactory(category="legacy", is_active=False)
    assert "legacy" not in dict(
        admin_client.get(reverse("closures:reason_create")).context["form"].fields["category"].choices
    )
    form = admin_client.get(reverse("closures:reason_edit", args=[old.pk])).context["form"]
    assert ("legacy", "Legacy") in form.fields["category"].choices


def test_the_duplicate_record_category_cannot_be_retired(admin_user):
    duplicate = ReasonCategory.objects.get(key="duplicate")
    ClosureReason.objects.filter(category="duplicate").update(is_active=False)
    duplicate.is_active = False
    with pytest.raises(ValidationError, match="voiding a duplicate record asks for the card that stays"):
        category_ops.save_category(duplicate, by=admin_user)


# --- merging ---------------------------------------------------------------------------------------


@pytest.fixture
def attitude():
    """A category with two reasons and three closures (one reverted), next to closures elsewhere."""
    cat = category("attitude", "Attitude", "态度")
    rude = ClosureReasonFactory(label_en="Rude staff", category="attitude")
    slow = ClosureReasonFactory(label_en="Slow replies", category="attitude", is_active=False)
    for reason in (rude, rude, slow):
        ClosureFactory(reason=reason)
    ClosureFactory(reason=ClosureReasonFactory(category="service"))
    return cat


def test_merging_moves_every_reason_and_closure_and_the_tallies_equal_a_recount(admin_client, admin_user, attitude):
    service = ReasonCategory.objects.get(key="service")
    before = Closure.objects.filter(category="service").count()
    page = admin_client.get(reverse("closures:category_merge", args=[attitude.pk])).content.decode()
    assert "Reasons in this category: 2. Closures in this category: 3." in page

    response = admin_client.post(reverse("closures:category_merge", args=[attitude.pk]), {"target": service.pk})

    assert response.status_code == 302
    assert not ClosureReason.objects.filter(category="attitude").exists()
    assert not Closure.objects.filter(category="attitude").exists()
    assert Closure.objects.filter(category="service").count() == before + 3
    assert not ClosureTally.objects.filter(category="attitude").exists()
    assert not ClosureStaffTally.objects.filter(category="attitude").exists()
    assert_tallies_match_a_recount()
    attitude.refresh_from_db()
    assert not attitude.is_active and attitude.merged_into == service
    entry = AuditEntry.objects.get(action="category.merge")
    assert entry.actor == admin_user
    assert entry.data == {"category": "attitude", "into": "service", "reasons": 2, "closures": 3}
    listing = admin_client.get(reverse("closures:reason_list")).content.decode()
    assert "Merged into Service" in listing


def test_the_merge_message_and_the_audit_trail_say_what_moved(admin_client, attitude):
    service = ReasonCategory.objects.get(key="service")
    response = admin_client.post(
        reverse("closures:category_merge", args=[attitude.pk]), {"target": service.pk}, follow=True
    )
    assert "“Attitude” was merged into “Service”. Reasons moved: 2; closures moved: 3." in response.content.decode()
    audit_page = admin_client.get(reverse("closures:audit")).content.decode()
    assert "Reason categories merged" in audit_page
    assert "“Attitude” into “Service”. Reasons moved: 2; closures moved: 3." in audit_page


def test_merging_into_itself_or_into_a_retired_category_is_refused(admin_user, attitude):
    legacy = category("legacy", "Legacy", is_active=False)
    with pytest.raises(ValidationError, match="A category cannot be merged into itself."):
        category_ops.merge_categories(attitude, attitude, by=admin_user)
    with pytest.raises(ValidationError, match="“Legacy” is retired: reactivate it first"):
        category_ops.merge_categories(attitude, legacy, by=admin_user)
    assert ClosureReason.objects.filter(category="attitude").count() == 2
    assert not AuditEntry.objects.filter(action="category.merge").exists()


def test_duplicate_record_cannot_be_merged_either_way(admin_user, attitude):
    duplicate = ReasonCategory.objects.get(key="duplicate")
    for source, target in ((duplicate, attitude), (attitude, duplicate)):
        with pytest.raises(ValidationError, match="“Duplicate record” cannot be merged with another category"):
            category_ops.merge_categories(source, target, by=admin_user)


def test_the_merge_page_offers_only_active_other_categories_and_refuses_the_rest_readably(admin_client, attitude):
    legacy = category("legacy", "Legacy", is_active=False)
    form = admin_client.get(reverse("closures:category_merge", args=[attitude.pk])).context["form"]
    offered = set(form.fields["target"].queryset.values_list("key", flat=True))
    assert "service" in offered and not offered & {"attitude", "legacy", "duplicate"}
    response = admin_client.post(reverse("closures:category_merge", args=[attitude.pk]), {"target": legacy.pk})
    assert response.status_code == 200
    assert response.context["form"].errors["target"]
    assert ClosureReason.objects.filter(category="attitude").count() == 2


def test_a_merged_category_can_be_merged_again_to_sweep_up_stragglers(admin_user, attitude):
    service, price = (ReasonCategory.objects.get(key=k) for k in ("service", "price"))
    category_ops.merge_categories(attitude, service, by=admin_user)
    straggler = ClosureFactory(reason=ClosureReasonFactory(category="price"), category="attitude")
    merged = category_ops.merge_categories(attitude, price, by=admin_user)
    assert (merged.reasons, merged.closures) == (0, 1)
    straggler.refresh_from_db()
    assert straggler.category == "price"
    assert_tallies_match_a_recount()


def test_a_page_that_labels_many_categories_reads_the_table_once(admin_client, admin_user, attitude):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for key in ("price", "service", "product"):
        category_ops.merge_categories(category(f"old_{key}", f"Old {key}"), attitude, by=admin_user)
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(reverse("closures:audit")).content.decode()
    assert all(f"“Old {key}” into “Attitude”" in page for key in ("price", "service", "product"))
    assert sum("closures_reasoncategory" in q["sql"] for q in queries.captured_queries) == 1
