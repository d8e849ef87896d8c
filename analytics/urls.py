from django.urls import path

from . import churn_warning_views, service_views, views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("closures/", views.closure_list, name="closure_list"),
    path("export/", views.export, name="export"),
    path("service/", service_views.service, name="service"),
    path("service/export/", service_views.service_export, name="service_export"),
    path("churn-warning/", churn_warning_views.churn_warning, name="churn_warning"),
    path("churn-warning/export/", churn_warning_views.churn_warning_export, name="churn_warning_export"),
]
