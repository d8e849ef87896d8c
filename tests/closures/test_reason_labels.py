"""One language is enough for a reason or a category, two equal labels are not, and the Reasons page
says which translations are missing."""

import pytest
from django.urls import reverse
from django.utils import translation

from closures.models import ClosureReason, ReasonCategory
from tests.factories import ClosureReasonFactory, CustomerFactory

from .steps import start_url

pytestmark = pytest.mark.django_db


def reason_data(**fields) -> dict:
    data = {"label_en": "", "label_zh": "", "category": "price", "display_order": "50", "is_active": "on"}
    data.update(fields)
    return data


def create_reason(client, **fields):
    return client.post(reverse("closures:reason_create"), reason_data(**fields))


# --- one language is enough ------------------------------------------------------------------------


def test_a_reason_with_a_chinese_label_only_is_created_and_shows_it_in_english(admin_client, staff_client):
    response = create_reason(admin_client, label_zh="嫌麻烦", for_close="on")
    assert response.status_code == 302
    reason = ClosureReason.objects.get(label_zh="嫌麻烦")
    assert reason.label_en == "" and reason.code == "reason"
    assert reason.label == "嫌麻烦"
    page = staff_client.get(start_url(CustomerFactory(), "close")).content.decode()
    assert f'<option value="{reason.pk}">嫌麻烦</option>' in page


def test_a_reason_with_an_english_label_only_shows_it_in_chinese(staff_client):
    reason = ClosureReasonFactory(label_en="Too much hassle", label_zh="", for_close=True)
    with translation.override("zh-hans"):
        assert reason.label == "Too much hassle"
    page = staff_client.get(start_url(CustomerFactory(), "close"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert ">继续</button>" in page  # the page is in Chinese
    assert f'<option value="{reason.pk}">Too much hassle</option>' in page


def test_the_reasons_page_marks_missing_translations(admin_client):
    ClosureReasonFactory(label_en="Too much hassle", label_zh="")
    ClosureReasonFactory(label_en="", label_zh="嫌麻烦")
    ReasonCategory.objects.create(key="attitude", label_en="Attitude")
    ReasonCategory.objects.create(key="taidu", label_zh="态度问题")
    page = admin_client.get(reverse("closures:reason_list")).content.decode()
    assert page.count('<span class="badge missing">No Chinese label</span>') == 2
    assert page.count('<span class="badge missing">No English label</span>') == 2
    assert '>嫌麻烦</a> <span class="badge missing">No English label</span>' in page


def test_a_reason_with_both_labels_has_no_mark(admin_client):
    page = admin_client.get(reverse("closures:reason_list")).content.decode()
    assert "No Chinese label" not in page and "No English label" not in page


# --- duplicate labels ------------------------------------------------------------------------------


@pytest.fixture
def hassle():
    return ClosureReasonFactory(label_en="Too much hassle", label_zh="嫌麻烦", for_close=True, for_archive=True)


@pytest.mark.parametrize("label", ["Too much hassle", "  too MUCH   hassle "])
def test_a_second_reason_with_the_same_english_label_for_the_same_action_is_refused(admin_client, hassle, label):
    response = create_reason(admin_client, label_en=label, label_zh="别的", for_close="on")
    assert response.status_code == 200
    assert response.context["form"].errors["label_en"] == ["“Too much hassle” already has this label."]
    assert not ClosureReason.objects.filter(label_zh="别的").exists()


def test_the_same_chinese_label_is_refused_next_to_the_chinese_field(admin_client, hassle):
    response = create_reason(admin_client, label_en="Bothersome", label_zh="嫌麻烦", for_archive="on")
    assert response.context["form"].errors == {"label_zh": ["“Too much hassle” already has this label."]}


def test_a_one_language_label_clashes_through_its_fallback(admin_client, hassle):
    response = create_reason(admin_client, label_zh="too much hassle", for_close="on")
    assert response.context["form"].errors["label_zh"] == ["“Too much hassle” already has this label."]


def test_the_same_label_for_another_action_is_allowed(admin_client, hassle):
    response = create_reason(admin_client, label_en="Too much hassle", label_zh="嫌麻烦", for_void="on")
    assert response.status_code == 302
    assert ClosureReason.objects.filter(label_en="Too much hassle").count() == 2


def test_editing_a_reason_does_not_clash_with_itself(admin_client, hassle):
    data = reason_data(label_en="Too much hassle", label_zh="嫌麻烦", for_close="on", for_archive="on")
    response = admin_client.post(reverse("closures:reason_edit", args=[hassle.pk]), data)
    assert response.status_code == 302


def test_a_retired_reason_with_the_label_is_named_with_a_way_out(admin_client):
    ClosureReasonFactory(label_en="Too much hassle", label_zh="嫌麻烦", for_close=True, is_active=False)
    response = create_reason(admin_client, label_en="Too much hassle", for_close="on")
    assert response.context["form"].errors["label_en"] == [
        "“Too much hassle” (retired) already has this label: reactivate it instead, or choose another label."
    ]


def test_a_category_with_the_label_of_another_is_refused(admin_client):
    response = admin_client.post(
        reverse("closures:category_create"), {"label_en": " price ", "label_zh": "费用", "display_order": "1"}
    )
    assert response.context["form"].errors["label_en"] == ["“Price” already has this label."]
    response = admin_client.post(
        reverse("closures:category_create"), {"label_en": "Cost", "label_zh": "价格", "display_order": "1"}
    )
    assert response.context["form"].errors["label_zh"] == ["“Price” already has this label."]
    assert not ReasonCategory.objects.filter(label_zh="费用").exists()


def test_a_category_needs_a_label_in_one_language(admin_client):
    response = admin_client.post(reverse("closures:category_create"), {"display_order": "1"})
    assert response.context["form"].errors["label_en"] == ["Give a label in English or in Chinese (or both)."]
