"""The reference page of issue 6, measured by ``manage.py bench`` on the machine at hand.

The issue set its targets against "a minimal Django 5.2 page with session auth, one indexed
lookup and a 25-row table", measured at about 12 ms p50 and 17 ms p95 where the targets were
written. Timing that same page here, in the same way as the real pages, tells how this machine
compares: a reference at 24 ms means every figure starts from twice the budget's floor.

Only the benchmark loads this URLconf (``override_settings(ROOT_URLCONF=...)``); it is not part
of the app's URLs.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.template import engines
from django.urls import include, path

from customers.models import Customer

PAGE = engines["django"].from_string(
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Reference</title></head><body>"
    "<h1>{{ user.get_username }}</h1><table><thead><tr><th>No.</th><th>Name</th><th>City</th>"
    "<th>Segment</th><th>Created</th></tr></thead><tbody>{% for c in rows %}<tr><td>{{ c.customer_no }}</td>"
    "<td>{{ c.name }}</td><td>{{ c.city }}</td><td>{{ c.get_segment_display }}</td>"
    '<td>{{ c.created_at|date:"Y-m-d" }}</td></tr>{% endfor %}</tbody></table></body></html>'
)


@login_required
def reference(request):
    """Session auth, one indexed lookup (25 cards from an id on, by primary key), a 25-row table."""
    start = int(request.GET.get("from") or 1)
    rows = Customer.objects.filter(pk__gte=start).order_by("pk")[:25]
    return HttpResponse(PAGE.render({"rows": rows, "user": request.user}, request))


urlpatterns = [
    path("bench/reference/", reference, name="bench_reference"),
    path("", include("crm.urls")),
]
