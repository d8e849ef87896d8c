"""Who may use each customers:* route.

Saved views: everyone saves searches and opens their own and shared ones; only the owner (here
the Staff user) edits one; the owner deletes it, and Admins delete shared ones; someone else's
private view is not found (404).

Every role searches, reads, creates and edits cards and logs interactions and purchases;
import, export and the import batches are for Admins only. world.customer is an active card owned by the staff user.
"""

from .routes import ADMINS, EVERYONE, Route

STAFF = frozenset({"staff"})
STAFF_AND_ADMINS = frozenset({"staff", "admin"})


def _card(w) -> dict:
    return {"pk": w.customer.pk}


def _new_customer(w) -> dict:
    return {
        "name": "路人甲",
        "phone": "13700009999",
        "segment": "potential",
        "stage": "prospect",
        "balance": "0",
        "points": "0",
    }


def _edit_customer(w) -> dict:
    c = w.customer
    return {
        "customer_no": c.customer_no,
        "name": c.name,
        "phone": c.phone,
        "email": c.email,
        "city": "杭州",
        "segment": c.segment,
        "stage": c.stage,
        "balance": "0",
        "points": "0",
    }


ROUTES = [
    Route("customers:search", EVERYONE),
    Route("customers:search", EVERYONE, query="q=C&status=closed&o=-total&page=2"),
    Route("customers:search_filters", EVERYONE, ok=(302,)),  # htmx gets the fields (test_search_filters)
    Route("customers:search_also", EVERYONE, query="q=C&status=active"),
    Route("customers:search_also", EVERYONE),
    Route("customers:saved_view_create", EVERYONE, query="q=张&page=2"),
    Route(
        "customers:saved_view_create",
        EVERYONE,
        method="POST",
        data=lambda w: {"name": "新", "query": "q=李"},
        ok=(302,),
    ),
    Route("customers:saved_view_open", EVERYONE, kwargs=lambda w: {"pk": w.shared_view.pk}, ok=(302,), denied=404),
    Route("customers:saved_view_open", STAFF, kwargs=lambda w: {"pk": w.private_view.pk}, ok=(302,), denied=404),
    Route("customers:saved_view_edit", STAFF, kwargs=lambda w: {"pk": w.shared_view.pk}, denied=404),
    Route(
        "customers:saved_view_edit",
        STAFF,
        method="POST",
        kwargs=lambda w: {"pk": w.shared_view.pk},
        data=lambda w: {"name": "上海重点客户", "shared": "on"},
        ok=(302,),
        denied=404,
    ),
    Route("customers:saved_view_delete", STAFF_AND_ADMINS, kwargs=lambda w: {"pk": w.shared_view.pk}, denied=404),
    Route(
        "customers:saved_view_delete",
        STAFF_AND_ADMINS,
        method="POST",
        kwargs=lambda w: {"pk": w.shared_view.pk},
        ok=(302,),
        denied=404,
    ),
    Route("customers:saved_view_delete", STAFF, kwargs=lambda w: {"pk": w.private_view.pk}, denied=404),
    Route("customers:create", EVERYONE),
    Route("customers:create", EVERYONE, method="POST", data=_new_customer, ok=(302,)),
    Route("customers:card", EVERYONE, kwargs=_card),
    Route("customers:edit", EVERYONE, kwargs=_card),
    Route("customers:edit", EVERYONE, method="POST", kwargs=_card, data=_edit_customer, ok=(302,)),
    Route("customers:add_interaction", EVERYONE, kwargs=_card),
    Route(
        "customers:add_interaction",
        EVERYONE,
        method="POST",
        kwargs=_card,
        data=lambda w: {"kind": "call", "occurred_at": "2026-01-05T10:00", "summary": "回访"},
        ok=(302,),
    ),
    Route("customers:add_purchase", EVERYONE, kwargs=_card),
    Route(
        "customers:add_purchase",
        EVERYONE,
        method="POST",
        kwargs=_card,
        data=lambda w: {"product": "会员年卡", "quantity": "1", "amount": "199", "purchased_on": "2026-01-05"},
        ok=(302,),
    ),
    # Contact preferences and consent: every role, on any card that still has its personal data.
    Route("customers:consent", EVERYONE, kwargs=_card),
    Route(
        "customers:consent",
        EVERYONE,
        method="POST",
        kwargs=_card,
        data=lambda w: {"email_service": "on", "email_marketing": "on", "how": "门店签字表", "language": "en"},
        ok=(302,),
    ),
    # The balance ledger: everyone reads it and records top-ups and payments; adjustments need a Manager.
    Route("customers:ledger", EVERYONE, kwargs=_card),
    Route("customers:add_ledger_entry", EVERYONE, kwargs=_card),
    Route(
        "customers:add_ledger_entry",
        EVERYONE,
        method="POST",
        kwargs=_card,
        data=lambda w: {"kind": "top_up", "amount": "50", "method": "cash"},
        ok=(302,),
    ),
    # Import and export (built by customers/views/io.py): Admins only.
    Route("customers:export", ADMINS, query="format=csv", ok=(200, 302)),
    Route("customers:export", ADMINS, query="format=xlsx&q=C", ok=(200, 302)),
    Route("customers:import", ADMINS),
    Route("customers:import_template", ADMINS, kwargs=lambda w: {"fmt": "xlsx"}),
    Route("customers:import_template", ADMINS, kwargs=lambda w: {"fmt": "csv"}),
    Route("customers:import", ADMINS, method="POST", ok=(200,)),
    Route("customers:import", ADMINS, query="upload=" + "0" * 32, ok=(302,)),
    Route("customers:import_confirm", ADMINS, ok=(405,)),
    Route("customers:import_confirm", ADMINS, method="POST", data=lambda w: {"upload": "0" * 32}, ok=(302,)),
    # The uploader's own kept file only: an unknown (or someone else's) upload is not found.
    Route("customers:import_marked", ADMINS, kwargs=lambda w: {"upload_id": "0" * 32}, ok=(404,)),
    Route("customers:import_batches", ADMINS),
    Route("customers:import_batches", ADMINS, query="page=2"),
    Route("customers:search", EVERYONE, query="batch=1&source=x&city=%E6%B5%8B"),
]
