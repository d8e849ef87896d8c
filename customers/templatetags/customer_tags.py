"""Labels for the card's history timeline."""

from django import template
from django.core.exceptions import FieldDoesNotExist

from customers.models import Customer

register = template.Library()


@register.filter
def field_label(name: str) -> str:
    """A customer field's verbose name ("city" -> "City"), or the name itself."""
    try:
        return str(Customer._meta.get_field(name).verbose_name).capitalize()
    except FieldDoesNotExist:
        return name
