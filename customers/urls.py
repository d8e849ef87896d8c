from django.urls import path

from .views import batches, card, consent, io, ledger, saved, search

app_name = "customers"

urlpatterns = [
    path("", search.search, name="search"),
    path("customers/filters/", search.search_filters, name="search_filters"),
    path("customers/also/", search.search_also, name="search_also"),
    path("customers/views/new/", saved.saved_view_create, name="saved_view_create"),
    path("customers/views/<int:pk>/", saved.saved_view_open, name="saved_view_open"),
    path("customers/views/<int:pk>/edit/", saved.saved_view_edit, name="saved_view_edit"),
    path("customers/views/<int:pk>/delete/", saved.saved_view_delete, name="saved_view_delete"),
    path("customers/new/", card.create, name="create"),
    path("customers/<int:pk>/", card.card, name="card"),
    path("customers/<int:pk>/edit/", card.edit, name="edit"),
    path("customers/<int:pk>/interactions/new/", card.add_interaction, name="add_interaction"),
    path("customers/<int:pk>/purchases/new/", card.add_purchase, name="add_purchase"),
    path("customers/<int:pk>/contact-preferences/", consent.edit, name="consent"),
    path("customers/<int:pk>/balance/", ledger.entries, name="ledger"),
    path("customers/<int:pk>/balance/new/", ledger.add_entry, name="add_ledger_entry"),
    path("customers/export/", io.export, name="export"),
    path("customers/import/", io.import_upload, name="import"),
    path("customers/import/template.<str:fmt>", io.import_template, name="import_template"),
    path("customers/import/confirm/", io.import_confirm, name="import_confirm"),
    path("customers/import/<str:upload_id>/marked.xlsx", io.import_marked, name="import_marked"),
    path("customers/imports/", batches.import_batches, name="import_batches"),
]
