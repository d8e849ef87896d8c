"""The audit log page (Manager, Admin): read-only, filterable, never counting the whole table,
every entry in the reader's language (crm.audit_display), contacts masked for those who see them
masked in lists (a Manager paging through the log must not collect every phone number edited).

Paged by keyset ("Newer" / "Older" carry the (at, id) of the page's edge), so the oldest entry
is as cheap to reach as the newest; see crm.pagination.keyset_page.
"""

from django.db.models import Q
from django.shortcuts import render

from crm import scopes
from crm.audit_display import describe
from crm.models import AuditEntry
from crm.pagination import keyset_page
from crm.permissions import require
from customers.models import Customer

from ..filters import AuditFilter


@require("crm.view_auditentry")
def audit_log(request):
    filterset = AuditFilter(request.GET or None, queryset=AuditEntry.objects.select_related("actor"))
    if filterset.is_bound and not filterset.is_valid():
        entries = AuditEntry.objects.none()
    else:
        entries = _in_scope(filterset.qs, request.user)
    page = keyset_page(entries, request.GET, per_page=50)
    customer_ids = {e.customer_id for e in page.object_list if e.customer_id}
    numbers = dict(Customer.objects.filter(pk__in=customer_ids).values_list("pk", "customer_no"))
    for entry in page.object_list:
        entry.customer_no = numbers.get(entry.customer_id, "")
    # In the reader's language; phones and emails masked as in lists, unless the reader sees them in full.
    shown = describe(page.object_list, unmasked=request.user.has_perm("customers.view_unmasked_contacts"))
    return render(request, "closures/audit_log.html", {"filter": filterset, "page_obj": page, "shown": shown})


def _in_scope(entries, user):
    """The entries about a card in ``user``'s data scope (crm/scopes.py), and those about no card."""
    if not scopes.is_scoped(user):
        return entries
    return entries.filter(
        Q(customer_id__isnull=True) | Q(customer_id__in=Customer.objects.visible_to(user).values("pk"))
    )
