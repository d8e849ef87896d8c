from django.urls import path

from .views import settings, transfer

app_name = "service"

# Each block belongs to one part of the app; keep them apart so they merge cleanly.

# --- Queues, the ticket page and its operations, new ticket from a card (service/views/tickets.py, queues.py)
ticket_urls: list = []

# --- Admin: categories, teams, SLA policies, the working calendar (service/views/settings.py) ---
settings_urls: list = [
    path("settings/", settings.settings_page, name="settings"),
    path("settings/categories/new/", settings.category_add, name="category_add"),
    path("settings/categories/<int:pk>/", settings.category_edit, name="category_edit"),
    path("settings/teams/new/", settings.team_add, name="team_add"),
    path("settings/teams/<int:pk>/", settings.team_edit, name="team_edit"),
    path("settings/sla/new/", settings.sla_add, name="sla_add"),
    path("settings/sla/<int:pk>/", settings.sla_edit, name="sla_edit"),
    path("settings/calendar/", settings.calendar, name="calendar"),
    path("settings/calendar/holidays/", settings.holiday_add, name="holiday_add"),
    path("settings/calendar/holidays/<int:pk>/delete/", settings.holiday_delete, name="holiday_delete"),
]

# --- Import of historical tickets, export of a queue (service/views/transfer.py) ---------------
transfer_urls: list = [
    path("export/", transfer.export, name="export"),
    path("import/", transfer.import_upload, name="import"),
    path("import/confirm/", transfer.import_confirm, name="import_confirm"),
    path("import/<str:upload_id>/marked.xlsx", transfer.import_marked, name="import_marked"),
    path("import/template.<str:fmt>", transfer.import_template, name="import_template"),
]

urlpatterns = ticket_urls + settings_urls + transfer_urls
