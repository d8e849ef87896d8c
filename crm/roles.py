"""The three roles and exactly what each may do.

This is the single source of the role matrix; README.md shows the same matrix and
tests/crm/test_roles.py checks that the two agree. Groups are synced after every
`migrate` (see CrmConfig.ready), so adding a permission here and migrating is enough.
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions
from django.db import DEFAULT_DB_ALIAS
from django.utils.translation import gettext_lazy as _

STAFF = "Staff"
MANAGER = "Manager"
ADMIN = "Admin"
ROLE_NAMES = (STAFF, MANAGER, ADMIN)
SCOPED_ROLES = (STAFF, MANAGER)  # the roles an Admin may limit to some cards (crm/scopes.py)
# The names people read (the group names above are identifiers and stay English).
ROLE_LABELS = {STAFF: _("Staff"), MANAGER: _("Manager"), ADMIN: _("Admin")}

STAFF_PERMISSIONS = [
    "customers.view_customer",
    "customers.add_customer",
    "customers.change_customer",
    "customers.view_purchase",
    "customers.add_purchase",
    "customers.view_interaction",
    "customers.add_interaction",
    "customers.view_ledgerentry",
    "customers.add_ledgerentry",  # top-ups and payments from the balance; adjustments need change_balance
    "closures.view_closure",
    "closures.add_closure",  # close card, void record, archive (maybe through approval)
    "closures.view_closurereason",
    "customers.view_contactconsent",
    "customers.change_contactconsent",  # contact preferences and consent, on the card
    "followups.view_followup",  # my callbacks; the follow-ups of a card
    "followups.change_followup",  # record a callback's outcome
    "service.view_ticket",
    "service.add_ticket",
    "service.change_ticket",  # work tickets: steps, hand-offs, waiting, resolve, close, reopen
    "insights.view_score",  # a card's churn risk, RFM segment and value
    "insights.view_retentionaction",
    "insights.add_retentionaction",  # plan a retention callback, log a retention attempt
]

MANAGER_PERMISSIONS = STAFF_PERMISSIONS + [
    "customers.change_balance",
    "closures.view_analytics",
    "closures.reinstate_closure",
    "closures.bulk_close",
    "closures.view_closurerequest",
    "closures.decide_closurerequest",
    "crm.view_auditentry",
    "followups.manage_followups",  # the team's follow-ups: see and reassign every one
    "followups.view_improvement",
    "followups.add_improvement",
    "followups.change_improvement",
    "followups.delete_improvement",
    "service.manage_tickets",  # reassign (also in bulk), change a ticket's SLA, every team's queue
    "service.view_service_analytics",
    "insights.change_retentionaction",  # record anyone's retention callback
    "insights.view_risk_analytics",  # the churn-warning dashboard
    "insights.export_scores",  # the "At risk" list to Excel
]

ADMIN_PERMISSIONS = MANAGER_PERMISSIONS + [
    "customers.import_customers",
    "customers.view_importbatch",
    "customers.export_customers",
    "customers.view_unmasked_contacts",
    "customers.delete_shared_savedview",
    "closures.erase_customer",
    "closures.add_closurereason",
    "closures.change_closurereason",
    "closures.change_closuresettings",
    "closures.export_closures",
    "followups.change_followuppolicy",  # the follow-up rules and message templates
    "service.configure_service",  # ticket categories, teams, SLA policies, the working calendar
    "service.export_tickets",
    "service.import_tickets",
    "insights.view_scoring_settings",  # the risk weights and thresholds, with their meaning
    "api.manage_tokens",  # create and revoke the API tokens of other systems
    "api.manage_webhooks",  # webhook endpoints, their delivery log and redelivery
    "privacy.manage_datarequest",  # the personal-data request register and access exports
    "privacy.manage_retention",  # retention rules, their preview and runs, legal holds
    "crm.manage_data_scopes",  # which cards Staff and Managers see (own, their teams', all)
    "auth.view_user",
    "auth.add_user",
    "auth.change_user",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    STAFF: STAFF_PERMISSIONS,
    MANAGER: MANAGER_PERMISSIONS,
    ADMIN: ADMIN_PERMISSIONS,
}


def sync_roles(apps=global_apps, using: str = DEFAULT_DB_ALIAS) -> None:
    """Create the groups if missing and give each exactly its permissions. Idempotent."""
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    for role, codes in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = []
        for code in codes:
            app_label, codename = code.split(".")
            wanted.append(Permission.objects.using(using).get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def sync_roles_after_migrate(sender, using=DEFAULT_DB_ALIAS, apps=global_apps, **kwargs) -> None:
    # post_migrate fires once per app; sync_roles creates every app's permissions itself, so once is enough.
    if sender.name != "crm":
        return
    sync_roles(global_apps, using=using)
