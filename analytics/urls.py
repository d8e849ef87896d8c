from django.urls import path

from . import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("closures/", views.closure_list, name="closure_list"),
    path("export/", views.export, name="export"),
]
