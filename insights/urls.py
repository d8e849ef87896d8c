from django.urls import path

from . import action_views, views

app_name = "insights"

urlpatterns = [
    path("at-risk/", views.at_risk, name="at_risk"),
    path("retention/", action_views.action_list, name="actions"),
    path("customers/<int:pk>/callback/", action_views.plan_callback, name="plan_callback"),
    path("customers/<int:pk>/attempt/", action_views.log_attempt, name="log_attempt"),
    path("retention/<int:pk>/result/", action_views.record_result, name="record_result"),
    path("at-risk/export/", views.at_risk_export, name="at_risk_export"),
    path("settings/", views.scoring_settings, name="settings"),
]
