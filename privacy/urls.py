from django.urls import path

from . import retention_views, views

app_name = "privacy"

urlpatterns = [
    path("", views.request_list, name="list"),
    path("new/", views.create, name="create"),
    path("customers/<int:pk>/new/", views.register, name="register"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/identity/", views.check_identity, name="identity"),
    path("<int:pk>/export/", views.export, name="export"),
    path("<int:pk>/exports/<uuid:job>/download/", views.download, name="download"),
    path("<int:pk>/complete/", views.complete, name="complete"),
    path("<int:pk>/refuse/", views.refuse, name="refuse"),
    path("retention/", retention_views.rules, name="retention"),
    path("retention/<int:pk>/", retention_views.edit_rule, name="retention_rule"),
    path("retention/<int:pk>/cards.csv", retention_views.rule_list, name="retention_list"),
    path("retention/run/", retention_views.run, name="retention_start"),
    path("retention/runs/<uuid:job>/", retention_views.run_report, name="retention_run"),
    path("holds/", retention_views.hold_list, name="holds"),
    path("customers/<int:pk>/hold/", retention_views.place_hold, name="hold"),
    path("holds/<int:pk>/release/", retention_views.release_hold, name="release"),
]
