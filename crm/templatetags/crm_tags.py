"""Small template helpers shared by every app."""

from django import template
from django.utils.translation import gettext as _

from crm.navigation import inbox_badge as inbox_badge_html
from crm.navigation import menu_items

register = template.Library()


@register.simple_tag(takes_context=True)
def main_menu(context) -> str:
    """The header's menu entries for the user (crm.navigation)."""
    return menu_items(context["user"])


@register.simple_tag(takes_context=True)
def inbox_badge(context) -> str:
    """The header's link to the inbox with the number of items waiting (crm.inbox); empty without sources."""
    return inbox_badge_html(context["user"])


@register.simple_tag(takes_context=True)
def query_replace(context, **kwargs) -> str:
    """The current query string with some parameters replaced (or removed when None/"")."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = value
    return query.urlencode()


@register.simple_tag(takes_context=True)
def sort_query(context, field: str, param: str = "o") -> str:
    """Query string that sorts by ``field``, flipping direction when it is already the sort."""
    query = context["request"].GET.copy()
    current = query.get(param, "")
    query[param] = f"-{field}" if current == field else field
    query.pop("page", None)
    return query.urlencode()


@register.simple_tag(takes_context=True)
def sort_state(context, field: str, param: str = "o") -> str:
    """ "ascending", "descending" or "none", for aria-sort."""
    current = context["request"].GET.get(param, "")
    if current == field:
        return "ascending"
    if current == f"-{field}":
        return "descending"
    return "none"


@register.filter
def mask_phone(phone: str) -> str:
    """+8613812345678 -> +86 138****5678: enough to recognise a number, not to call it."""
    if not phone:
        return ""
    digits = phone.lstrip("+")
    if len(digits) <= 4:
        return "*" * len(digits)
    keep_head = 5 if phone.startswith("+86") else 3
    head, tail = digits[:keep_head], digits[-4:]
    return f"+{head}{'*' * max(len(digits) - len(head) - 4, 2)}{tail}"


@register.filter
def mask_email(email: str) -> str:
    """zhang.wei@example.com -> z***@example.com"""
    if not email or "@" not in email:
        return email or ""
    local, domain = email.split("@", 1)
    return f"{local[:1]}***@{domain}"


@register.filter
def pretty_phone(phone: str) -> str:
    """+8613812345678 -> +86 138 1234 5678 (other countries are shown as stored)."""
    if phone.startswith("+86") and len(phone) == 14:
        d = phone[3:]
        return f"+86 {d[:3]} {d[3:7]} {d[7:]}"
    return phone


@register.simple_tag
def yes_no(value) -> str:
    return _("Yes") if value else _("No")


@register.filter
def audit_label(action: str) -> str:
    """The words for an audit action code ("closure.close" -> "Card closed")."""
    from crm.audit import ACTION_LABELS

    return ACTION_LABELS.get(action, action)


@register.filter
def role_label(group_name: str) -> str:
    """A role's name in the reader's language (crm.roles.ROLE_LABELS); a group that is no role as it is."""
    from crm.roles import ROLE_LABELS

    return str(ROLE_LABELS.get(str(group_name), group_name))
