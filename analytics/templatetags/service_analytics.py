"""Links of the service figures (analytics/service_links.py) for the templates."""

from django import template

from analytics.service_links import closure_list_url

register = template.Library()


@register.simple_tag
def closure_list_link(params: dict) -> str:
    """The closure list narrowed to a churn-after-service figure's closures."""
    return closure_list_url(**params)
