from django.urls import path

from . import views

app_name = "insights"

urlpatterns = [
    path("at-risk/", views.at_risk, name="at_risk"),
]
