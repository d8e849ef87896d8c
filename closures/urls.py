from django.urls import path

from .views import audit, bulk, categories, flow, imports, my_requests, reasons, requests

app_name = "closures"

urlpatterns = [
    # reinstate comes first: "customer/<pk>/<action>/" would otherwise swallow it
    path("customer/<int:pk>/reinstate/", flow.reinstate, name="reinstate"),
    # close / void / archive / erase: reason and notes ("Continue"), then the impact preview ("Confirm")
    path("customer/<int:pk>/<str:action>/", flow.start, name="start"),
    path("customer/<int:pk>/<str:action>/confirm/", flow.confirm, name="confirm"),
    path("requests/", requests.queue, name="request_queue"),
    path("requests/<int:pk>/", requests.decide, name="request_decide"),
    path("requests/decide/", requests.batch, name="request_batch"),
    path("requests/mine/", my_requests.my_requests, name="my_requests"),
    path("requests/<int:pk>/withdraw/", my_requests.withdraw, name="request_withdraw"),
    path("bulk/", bulk.bulk, name="bulk"),
    path("bulk/confirm/", bulk.bulk_confirm, name="bulk_confirm"),
    path("reasons/", reasons.reason_list, name="reason_list"),
    path("reasons/new/", reasons.reason_create, name="reason_create"),
    path("reasons/<int:pk>/", reasons.reason_edit, name="reason_edit"),
    path("reasons/categories/new/", categories.category_create, name="category_create"),
    path("reasons/categories/<int:pk>/", categories.category_edit, name="category_edit"),
    path("reasons/categories/<int:pk>/merge/", categories.category_merge, name="category_merge"),
    path("settings/", reasons.closure_settings, name="settings"),
    path("audit/", audit.audit_log, name="audit"),
    # Historical closures brought in by a migration (Admin)
    path("import/", imports.history_import, name="import"),
    path("import/confirm/", imports.history_import_confirm, name="import_confirm"),
    path("import/<str:upload_id>/marked.xlsx", imports.history_import_marked, name="import_marked"),
    path("import/template.<str:fmt>", imports.history_import_template, name="import_template"),
]
