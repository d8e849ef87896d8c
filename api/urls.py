"""/api/v1/: the resources, the OpenAPI schema and its docs page (both behind login)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm.permissions import logged_in

from . import analytics_views, closure_views, customer_views, views

app_name = "api"

urlpatterns = [
    path("schema/", views.declared(SpectacularAPIView, ()).as_view(), name="schema"),
    # A page for people: logged out, it sends them to log in, as every page does.
    path(
        "docs/",
        logged_in(views.declared(SpectacularSwaggerSplitView, ()).as_view(url_name="api:schema")),
        name="docs",
    ),
    path("reasons/", views.ReasonList.as_view(), name="reason-list"),
    path("customers/", customer_views.CustomerList.as_view(), name="customer-list"),
    path("customers/<str:customer_no>/", customer_views.CustomerDetail.as_view(), name="customer-detail"),
    path("customers/<str:customer_no>/erase/", closure_views.CustomerErase.as_view(), name="customer-erase"),
    path("closures/", closure_views.ClosureList.as_view(), name="closure-list"),
    path("closures/<int:pk>/", closure_views.ClosureDetail.as_view(), name="closure-detail"),
    path("closures/<int:pk>/reinstate/", closure_views.ClosureReinstate.as_view(), name="closure-reinstate"),
    path("closure-requests/", closure_views.RequestList.as_view(), name="request-list"),
    path("closure-requests/<int:pk>/approve/", closure_views.RequestDecision.as_view(), name="request-approve"),
    path("closure-requests/<int:pk>/reject/", closure_views.RequestReject.as_view(), name="request-reject"),
    path("closure-requests/<int:pk>/withdraw/", closure_views.RequestWithdraw.as_view(), name="request-withdraw"),
    path("analytics/closures/", analytics_views.ClosureFigures.as_view(), name="closure-figures"),
    # Anything else under /api/v1/: a 404 in the API's error shape, not the site's HTML page.
    re_path(r"^.*$", views.NotFound.as_view(), name="not-found"),
]
