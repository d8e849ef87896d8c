"""The import batches page (Admin): every customer file imported, and what it did."""

from django.shortcuts import render

from crm.pagination import page_of
from crm.permissions import require

from ..models import ImportBatch

PER_PAGE = 25


@require("customers.view_importbatch")
def import_batches(request):
    """Imports newest first, 25 a page, each linking to the cards it created and to its closures."""
    batches = ImportBatch.objects.select_related("created_by").order_by("-created_at", "-pk")
    return render(request, "customers/import_batches.html", {"page_obj": page_of(request, batches, PER_PAGE)})
