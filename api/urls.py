"""/api/v1/: the resources, the OpenAPI schema and its docs page (both behind login)."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from crm.permissions import logged_in

from . import views

app_name = "api"

urlpatterns = [
    path("schema/", views.declared(SpectacularAPIView, ()).as_view(), name="schema"),
    # A page for people: logged out, it sends them to log in, as every page does.
    path("docs/", logged_in(SpectacularSwaggerSplitView.as_view(url_name="api:schema")), name="docs"),
    path("reasons/", views.ReasonList.as_view(), name="reason-list"),
]
