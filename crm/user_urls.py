from django.urls import path

from . import scope_views, views

app_name = "users"

urlpatterns = [
    path("", views.user_list, name="list"),
    path("new/", views.user_create, name="create"),
    path("<int:pk>/", views.user_edit, name="edit"),
    path("<int:pk>/reset-link/", views.user_reset_link, name="reset_link"),
    path("data-scopes/", scope_views.data_scopes, name="data_scopes"),
]
