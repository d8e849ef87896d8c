from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("at-risk/", views.at_risk, name="at_risk"),
    path("at-risk/export/", views.at_risk_export, name="at_risk_export"),
    path("settings/", views.scoring_settings, name="settings"),
]
