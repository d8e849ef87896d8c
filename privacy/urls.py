from django.urls import path

from . import views

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
]
