"""The main menu in every page's header: each entry shown to those with its permission.

Written here rather than in templates/base.html: eight permission checks, URLs and labels
through the template engine cost about a millisecond of every page; this is a tenth of that.
URL names are strings, so crm imports none of the apps it links to.
"""

from html import escape

from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import inbox

MENU = [
    ("customers.view_customer", "customers:search", _("Customers")),
    ("customers.add_customer", "customers:create", _("New customer")),
    ("service.view_ticket", "service:queue", _("Tickets")),
    ("followups.view_followup", "followups:queue", _("Follow-ups")),
    ("insights.view_score", "insights:at_risk", _("Customers at risk")),
    ("closures.view_analytics", "analytics:dashboard", _("Closure analytics")),
    ("service.view_service_analytics", "analytics:service", _("Service dashboard")),
    ("insights.view_risk_analytics", "analytics:churn_warning", _("Churn warning")),
    ("closures.view_closurerequest", "closures:request_queue", _("Approvals")),
    ("crm.view_auditentry", "closures:audit", _("Audit log")),
    ("closures.change_closurereason", "closures:reason_list", _("Reasons")),
    ("followups.change_followuppolicy", "followups:policy", _("Follow-up policy")),
    ("service.configure_service", "service:settings", _("Service settings")),
    ("insights.view_scoring_settings", "insights:settings", _("Scoring settings")),
    ("customers.import_customers", "customers:import", _("Import")),
    ("customers.import_customers", "closures:import", _("Import past closures")),
    ("service.import_tickets", "service:import", _("Import past tickets")),
    ("customers.view_importbatch", "customers:import_batches", _("Import batches")),
    ("api.manage_tokens", "integration:tokens", _("API tokens")),
    ("api.manage_webhooks", "integration:webhook_list", _("Webhooks")),
    ("privacy.manage_datarequest", "privacy:list", _("Personal-data requests")),
    ("privacy.manage_retention", "privacy:retention", _("Data retention")),
    ("privacy.manage_retention", "privacy:holds", _("Legal holds")),
    ("auth.view_user", "users:list", _("Users")),
    ("crm.manage_data_scopes", "users:data_scopes", _("Data scopes")),
]


def menu_items(user) -> SafeString:
    """The ``<li>`` of each menu entry ``user`` may open, in the menu's order."""
    items = [
        f'<li><a href="{reverse(url_name)}">{escape(str(label))}</a></li>'
        for permission, url_name, label in MENU
        if user.has_perm(permission)
    ]
    return mark_safe("\n".join(items))  # noqa: S308 (labels escaped, URLs from reverse())


def inbox_badge(user) -> SafeString:
    """The link to the inbox, with the number of items waiting for ``user`` (crm.inbox: cached counts).

    Empty for a user who has no inbox source (no role). The number is in the link's accessible
    name ("Inbox: 3 items waiting for you") and shown as a badge, also on a phone.
    """
    if not user.is_authenticated or not inbox.sources_for(user):
        return mark_safe("")  # noqa: S308 (empty)
    waiting = inbox.total(user)
    items = ngettext("%(count)s item waiting for you", "%(count)s items waiting for you", waiting) % {"count": waiting}
    # The visible word is part of the link's name (WCAG 2.5.3): "Inbox: 3 items waiting for you".
    label = _("Inbox: %(waiting)s") % {"waiting": items}
    badge = f'<span class="inbox-count">{waiting}</span>' if waiting else ""
    return mark_safe(  # noqa: S308 (the label escaped, the number an int, the URL from reverse())
        f'<a class="inbox-link" data-inbox-count="{waiting}" href="{reverse("inbox")}" '
        f'aria-label="{escape(label)}" title="{escape(label)}">'
        f'<span aria-hidden="true">{escape(str(_("Inbox")))}</span>{badge}</a>'
    )
