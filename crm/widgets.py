"""Form widgets that write their HTML in Python, and model choices read in one plain query.

Django renders every widget through templates, and every <option> and checkbox of a choice
widget through a template of its own (an include per option, another for its attributes).
On the search page that cost 21 ms of a 60 ms request at a million customers: 45 owners alone
took 10 ms. The widgets here write the same HTML with ``html.escape``
(tests/crm/test_widgets.py compares them with Django's own), so labels, ids,
``selected``/``checked``, ``required`` and the aria attributes Django adds do not change.

Each keeps the name of the Django widget it replaces (``widgets.Select`` for ``forms.Select``):
``BoundField.widget_type`` comes from the class name, and templates test it
(includes/form_field.html puts a checkbox's label after it). A project that overrides Django's
widget templates would lose its overrides with these: this one has none.

:class:`ModelChoices` reads a ModelChoiceField's choices with the queryset itself instead of
``.iterator()``, which on PostgreSQL opens a server-side cursor (three round trips instead of
one). The rows are kept on the field's queryset for the form's life, so the "is the first
choice empty?" check behind ``required`` and the rendering share one query.
"""

import html

import django_filters.fields
from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.safestring import mark_safe


def conditional_escape(value) -> str:
    """django.utils.html.conditional_escape without its lazy-argument wrapper (a third of the cost
    of an option): safe strings as they are, anything else through str() and html.escape."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def render_attrs(attrs: dict) -> str:
    """Attributes as Django's attrs.html writes them: True gives a bare name, False leaves it out."""
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(f" {conditional_escape(name)}")
        else:
            parts.append(f' {conditional_escape(name)}="{conditional_escape(value)}"')
    return "".join(parts)


def _input(option: dict, wrap_label: bool) -> str:
    value = "" if option["value"] is None else f' value="{conditional_escape(option["value"])}"'
    name, attrs = conditional_escape(option["name"]), render_attrs(option["attrs"])
    tag = f'<input type="{conditional_escape(option["type"])}" name="{name}"{value}{attrs}>\n'
    if not wrap_label:
        return tag
    label_id = option["attrs"].get("id")
    label_for = f' for="{conditional_escape(label_id)}"' if label_id else ""
    return f"<label{label_for}>{tag} {conditional_escape(option['label'])}</label>"


class FastInputMixin:
    """An <input> written as Django's input.html writes it (value and attributes as it formats them)."""

    def render(self, name, value, attrs=None, renderer=None):
        return mark_safe(_input(self.get_context(name, value, attrs)["widget"], False).rstrip("\n"))


class TextInput(FastInputMixin, forms.TextInput):
    """forms.TextInput, written without a template."""


class NumberInput(FastInputMixin, forms.NumberInput):
    """forms.NumberInput, written without a template."""


class CheckboxInput(FastInputMixin, forms.CheckboxInput):
    """forms.CheckboxInput, written without a template."""


class DateInput(FastInputMixin, forms.DateInput):
    """forms.DateInput, written without a template (``attrs={"type": "date"}`` for a date picker)."""


class Select(forms.Select):
    """forms.Select with the same HTML, written without a template per option.

    The options are written straight from ``choices`` (what ChoiceWidget.optgroups and
    create_option decide, without a dict per option): a select's options inherit no
    attributes, so an option is its value, its label and ``selected``.
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = forms.Widget.get_context(self, name, value, attrs)["widget"]
        if self.allow_multiple_selected:
            widget["attrs"]["multiple"] = True
        chosen = set(widget["value"])
        html = [f'<select name="{conditional_escape(widget["name"])}"{render_attrs(widget["attrs"])}>']
        has_selected = False
        for option_value, option_label in self.choices:
            group_name = None
            if option_value is None:
                option_value = ""
            if isinstance(option_label, list | tuple):
                group_name, choices = option_value, option_label
            else:
                choices = [(option_value, option_label)]
            if group_name:
                html.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for subvalue, sublabel in choices:
                selected = (not has_selected or self.allow_multiple_selected) and str(subvalue) in chosen
                has_selected |= selected
                html.append(
                    f'\n  <option value="{conditional_escape(subvalue)}"{" selected" if selected else ""}>'
                    f"{conditional_escape(sublabel)}</option>\n"
                )
            if group_name:
                html.append("\n  </optgroup>")
        html.append("\n</select>")
        return mark_safe("".join(html))


class SelectMultiple(Select, forms.SelectMultiple):
    """forms.SelectMultiple with the same HTML, written without a template per option."""


class CheckboxSelectMultiple(forms.CheckboxSelectMultiple):
    """forms.CheckboxSelectMultiple with the same HTML, whether rendered whole (``{{ field }}``)
    or a box at a time (``{% for choice in field %}{{ choice.tag }}``)."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        wrapper_id = widget["attrs"].get("id")
        wrapper_class = widget["attrs"].get("class")
        html = ["<div"]
        if wrapper_id:
            html.append(f' id="{conditional_escape(wrapper_id)}"')
        if wrapper_class:
            html.append(f' class="{conditional_escape(wrapper_class)}"')
        html.append(">")
        for group_name, options, _index in widget["optgroups"]:
            if group_name:
                html.append(f"\n  <div><label>{conditional_escape(group_name)}</label>")
            html.extend(f"<div>\n    {_input(option, True)}\n\n</div>" for option in options)
            if group_name:
                html.append("\n  </div>")
        html.append("\n</div>")
        return mark_safe("".join(html))

    def _render(self, template_name, context, renderer=None):
        # BoundWidget.tag() renders one box through the parent widget's _render.
        if template_name == self.option_template_name:
            option = context["widget"]
            return mark_safe(_input(option, option.get("wrap_label", False)).rstrip("\n"))
        return super()._render(template_name, context, renderer)


class ModelChoices(ModelChoiceIterator):
    """A ModelChoiceField's choices from one ordinary query, kept on the field's queryset."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)

    def __len__(self):
        return len(self.queryset) + (1 if self.field.empty_label is not None else 0)


class FilterModelChoices(django_filters.fields.ModelChoiceIterator, ModelChoices):
    """The same for django-filter's model choice fields (which add a "null" choice)."""


class FastModelChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField read with one plain query and rendered with :class:`Select`."""

    iterator = ModelChoices
    widget = Select


class FastFilterModelChoiceField(django_filters.fields.ModelChoiceField):
    """The same for django-filter (``field_class`` of a ModelChoiceFilter)."""

    iterator = FilterModelChoices
    widget = Select


class FastFilterModelMultipleChoiceField(django_filters.fields.ModelMultipleChoiceField):
    """The same for django-filter's ModelMultipleChoiceFilter, as a multiple select."""

    iterator = FilterModelChoices
    widget = SelectMultiple
