"""The fast choice widgets write exactly what Django's own widgets write, in one query for model choices."""

import datetime as dt

import pytest
from django import forms
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from crm import widgets
from crm.widgets import FastModelChoiceField
from customers.filters import CustomerFilter
from customers.forms import CustomerForm
from tests.factories import CustomerFactory, UserFactory

CHOICES = [
    ("", "Any"),
    ("a", '<b>&"'),
    ("b", "Plain"),
    ("Group <i>", [("x", "X & Y"), ("y", "Y")]),
    ("", [("z", "In a group without a name")]),
]


def forms_with(widget_class, django_widget_class, field_class=forms.ChoiceField, **field_kwargs):
    """The same form twice: once with the fast widget, once with Django's."""

    def make(widget):
        return type(
            "F",
            (forms.Form,),
            {"pick": field_class(choices=CHOICES, widget=widget, help_text="Help", **field_kwargs)},
        )

    return make(widget_class), make(django_widget_class)


@pytest.mark.parametrize(
    ("data", "required"),
    [
        (None, True),  # unbound
        ({"pick": "a"}, True),  # a selected value with characters to escape
        ({"pick": "x"}, False),  # a value inside an option group
        ({"pick": "nope"}, True),  # invalid: the error adds aria-invalid
        ({}, True),  # missing: required error
    ],
)
def test_fast_select_writes_what_django_select_writes(data, required):
    fast, slow = forms_with(widgets.Select, forms.Select, required=required)
    fast_form, slow_form = fast(data), slow(data)
    if data is not None:
        fast_form.is_valid(), slow_form.is_valid()
    assert str(fast_form["pick"]) == str(slow_form["pick"])
    assert fast_form["pick"].widget_type == slow_form["pick"].widget_type  # templates test it


def test_fast_select_escapes_labels_and_marks_the_selected_option():
    form = forms_with(widgets.Select, forms.Select)[0]({"pick": "a"})
    html = str(form["pick"])
    assert '<option value="a" selected>&lt;b&gt;&amp;&quot;</option>' in html
    assert '<optgroup label="Group &lt;i&gt;">' in html
    assert "<b>" not in html
    assert ' required aria-describedby="id_pick_helptext"' in html


def test_fast_select_marks_an_invalid_choice_for_assistive_technology():
    form = forms_with(widgets.Select, forms.Select)[0]({"pick": "nope"})
    assert not form.is_valid()
    assert 'aria-invalid="true"' in str(form["pick"])
    assert form.errors["pick"]


@pytest.mark.parametrize("data", [None, {"pick": ["a", "x"]}, {"pick": ["zzz"]}])
def test_fast_select_multiple_writes_what_django_writes(data):
    fast, slow = forms_with(widgets.SelectMultiple, forms.SelectMultiple, field_class=forms.MultipleChoiceField)
    fast_form, slow_form = fast(data), slow(data)
    if data is not None:
        fast_form.is_valid(), slow_form.is_valid()
    html = str(fast_form["pick"])
    assert html == str(slow_form["pick"])
    assert " multiple" in html


@pytest.mark.parametrize("data", [None, {"pick": ["a", "y"]}, {}])
def test_fast_checkboxes_write_what_django_writes_whole_and_one_at_a_time(data):
    fast, slow = forms_with(
        widgets.CheckboxSelectMultiple, forms.CheckboxSelectMultiple, field_class=forms.MultipleChoiceField
    )
    fast_form, slow_form = fast(data), slow(data)
    if data is not None:
        fast_form.is_valid(), slow_form.is_valid()
    assert str(fast_form["pick"]) == str(slow_form["pick"])
    assert fast_form["pick"].widget_type == slow_form["pick"].widget_type  # templates test it
    fast_boxes, slow_boxes = list(fast_form["pick"]), list(slow_form["pick"])
    assert [box.tag() for box in fast_boxes] == [box.tag() for box in slow_boxes]
    assert [str(box) for box in fast_boxes] == [str(box) for box in slow_boxes]  # wrapped in its label


def test_fast_checkbox_is_checked_and_escaped():
    form = forms_with(
        widgets.CheckboxSelectMultiple, forms.CheckboxSelectMultiple, field_class=forms.MultipleChoiceField
    )[0]({"pick": ["a"]})
    first = list(form["pick"])[1]
    assert first.tag() == '<input type="checkbox" name="pick" value="a" id="id_pick_1" checked>'
    assert str(first).endswith("&lt;b&gt;&amp;&quot;</label>")


@pytest.mark.parametrize(
    ("field", "fast_widget", "django_widget", "data", "initial"),
    [
        (forms.CharField(max_length=60, required=False), widgets.TextInput(), forms.TextInput(), {"v": '<x>&"'}, None),
        (forms.CharField(help_text="Help"), widgets.TextInput(), forms.TextInput(), {}, None),  # required, missing
        (forms.DecimalField(min_value=0), widgets.NumberInput(), forms.NumberInput(), {"v": "-3"}, None),
        (
            forms.DateField(),
            widgets.DateInput({"type": "date"}),
            forms.DateInput({"type": "date"}),
            None,
            dt.date(2024, 2, 29),
        ),
        (
            forms.DateField(),
            widgets.DateInput({"type": "date"}),
            forms.DateInput({"type": "date"}),
            {"v": "nope"},
            None,
        ),
        (forms.BooleanField(required=False), widgets.CheckboxInput(), forms.CheckboxInput(), {"v": "1"}, None),
        (forms.BooleanField(required=False), widgets.CheckboxInput(), forms.CheckboxInput(), None, None),
    ],
)
def test_fast_inputs_write_what_django_inputs_write(field, fast_widget, django_widget, data, initial):
    def form_with(widget):
        form_class = type("F", (forms.Form,), {"v": type(field)(**_kwargs(field), widget=widget)})
        form = form_class(data, initial={"v": initial} if initial else None)
        if data is not None:
            form.is_valid()
        return form

    fast_field, slow_field = form_with(fast_widget)["v"], form_with(django_widget)["v"]
    fast, slow = str(fast_field), str(slow_field)
    assert fast == slow
    assert fast_field.widget_type == slow_field.widget_type  # form_field.html places a checkbox's label by it
    assert fast.startswith("<input ")


def _kwargs(field) -> dict:
    kwargs = {"required": field.required, "help_text": field.help_text}
    for name in ("max_length", "min_value"):
        if getattr(field, name, None) is not None:
            kwargs[name] = getattr(field, name)
    return kwargs


@pytest.mark.django_db
def test_model_choices_are_read_once_for_required_check_and_options():
    users = [UserFactory(username=f"user{i}") for i in range(3)]

    class Pick(forms.Form):
        who = FastModelChoiceField(queryset=get_user_model().objects.order_by("pk"))

    form = Pick({"who": str(users[1].pk)})
    assert form.is_valid()  # looks the chosen user up: a query of its own
    with CaptureQueriesContext(connection) as queries:
        html = str(form["who"])
        html_again = str(form["who"])
    assert len(queries) == 1  # Django's ModelChoiceField reads them twice per rendering
    assert html == html_again
    assert f'<option value="{users[1].pk}" selected>user1</option>' in html


@pytest.mark.django_db
def test_model_choices_match_django_model_choice_field():
    UserFactory(username="a&b", first_name="")
    chosen = UserFactory(username="<chosen>")
    queryset = get_user_model().objects.order_by("pk")

    class Fast(forms.Form):
        who = FastModelChoiceField(queryset=queryset, required=False, empty_label="Nobody")

    class Slow(forms.Form):
        who = forms.ModelChoiceField(queryset=queryset, required=False, empty_label="Nobody")

    data = {"who": str(chosen.pk)}
    assert str(Fast(data)["who"]) == str(Slow(data)["who"])
    assert f'<option value="{chosen.pk}" selected>&lt;chosen&gt;</option>' in str(Fast(data)["who"])


@pytest.mark.django_db
def test_search_filters_show_the_chosen_owner_tags_and_statuses(staff_user):
    owner = UserFactory(username="owner_a", first_name="O&wner", role="Staff")
    CustomerFactory(owner=owner)
    filterset = CustomerFilter(QueryDict(f"owner={owner.pk}&status=closed&status=void"))
    owner_html = str(filterset.form["owner"])
    assert f'<option value="{owner.pk}" selected>O&amp;wner' in owner_html
    boxes = {box.data["value"]: box.tag() for box in filterset.form["status"]}
    assert "checked" in boxes["closed"] and "checked" in boxes["void"]
    assert "checked" not in boxes["active"]


@pytest.mark.django_db
def test_customer_form_owner_select_keeps_the_current_owner_selected(staff_user):
    customer = CustomerFactory(owner=staff_user)
    html = str(CustomerForm(instance=customer)["owner"])
    assert f'<option value="{staff_user.pk}" selected>Li Na</option>' in html
    assert '<option value="">Nobody</option>' in html
