"""Search: the staff home page."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from crm.permissions import require

from ..filters import CustomerFilter, count_cap, search_results
from ..highlight import Marks
from ..models import Customer
from ..results import SearchPaginator, with_tag_names


@require("customers.view_customer")
def search(request):
    """The box, the advanced filters and 25 results a page; htmx gets only the results."""
    filterset, customers = search_results(request.GET, request.user)
    paginator = SearchPaginator(customers, cap=count_cap(filterset))
    page = paginator.page(request.GET.get("page", "1"))
    context = {
        "filterset": filterset,
        "form": filterset.form,
        "page_obj": page,
        "customers": with_tag_names(page.object_list),
        "paginator": paginator,
        "searching": filterset.terms is not None or filterset.has_filters,
        "show_filters": filterset.has_filters or bool(filterset.form.errors) or "filters" in request.GET,
        "marks_exact": filterset.terms is not None,
        "marks": Marks.for_terms(filterset.terms),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    response = render(request, "customers/search.html#results" if partial else "customers/search.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@require("customers.view_customer")
def search_filters(request):
    """The advanced filters, empty: what the search page's closed panel fetches when first opened.
    Opened as a page of its own (a bookmark, a copied link), it is the search page with them open."""
    if not request.htmx:
        return redirect(f"{reverse('customers:search')}?filters=open")
    form = CustomerFilter(queryset=Customer.objects.none()).form
    return render(request, "customers/search.html#filters", {"form": form})
