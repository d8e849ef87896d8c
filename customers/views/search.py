"""Search: the staff home page."""

from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers

from crm.permissions import require

from .. import also
from ..filters import CustomerFilter, also_matching, count_cap, hides_matches, search_results
from ..highlight import Marks
from ..models import Customer, SavedView
from ..results import SearchPaginator, with_tag_names

SAVED_VIEWS_SHOWN = 50


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
        **_feedback(request, filterset),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    response = render(request, "customers/search.html#results" if partial else "customers/search.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _feedback(request, filterset) -> dict:
    """What the page adds around the results: marks for what matched, the hidden statuses' matches
    (fetched after the results), saving the search, the saved views (read only by the whole page)."""
    return {
        "marks": Marks.for_terms(filterset.terms),
        "also_url": _without_page(reverse("customers:search_also"), request) if hides_matches(filterset) else "",
        "every_status": also.including(request.GET, [], also.ALL),
        "save_url": _without_page(reverse("customers:saved_view_create"), request),
        "saved_views": SavedView.objects.visible_to(request.user).select_related("owner")[:SAVED_VIEWS_SHOWN],
    }


@require("customers.view_customer")
def search_filters(request):
    """The advanced filters, empty: what the search page's closed panel fetches when first opened.
    Opened as a page of its own (a bookmark, a copied link), it is the search page with them open."""
    if not request.htmx:
        return redirect(f"{reverse('customers:search')}?filters=open")
    form = CustomerFilter(queryset=Customer.objects.none(), user=request.user).form
    return render(request, "customers/search.html#filters", {"form": form})


@require("customers.view_customer")
def search_also(request):
    """How many cards the statuses the search hides also match, with a link that shows them too:
    fetched by the search page after its results (htmx), one capped count (customers.also)."""
    filterset, found = also_matching(request.GET, request.user)
    context = {}
    if found is not None and found.counts:
        more = also.hidden_statuses(filterset.statuses) if found.capped else list(found.counts)
        context = {"sentence": found.sentence(), "show_query": also.including(request.GET, filterset.statuses, more)}
    return render(request, "customers/search.html#also", context)


def _without_page(url: str, request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return f"{url}?{query.urlencode()}"
