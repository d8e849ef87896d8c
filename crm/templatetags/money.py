"""``{% load money %}{{ amount|money }}``: an amount with the currency sign and the locale's grouping."""

from django import template

from crm.formatting import money as format_money

register = template.Library()


@register.filter
def money(value) -> str:
    """ "¥1,000.55", "-¥12.00" (crm.formatting.money)."""
    return format_money(value)
