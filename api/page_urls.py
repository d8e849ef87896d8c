"""/integration/: the Admins' pages for other systems (API tokens, webhooks)."""

from django.urls import path

from . import token_views

app_name = "integration"

urlpatterns = [
    path("tokens/", token_views.token_list, name="tokens"),
    path("tokens/new/", token_views.token_create, name="token_create"),
    path("tokens/<int:pk>/", token_views.token_detail, name="token_detail"),
    path("tokens/<int:pk>/revoke/", token_views.token_revoke, name="token_revoke"),
]
