from django.urls import path

from .views import queues, settings, tickets, transfer

app_name = "service"

# Each block belongs to one part of the app; keep them apart so they merge cleanly.

# --- Queues, the ticket page and its operations, new ticket from a card (service/views/tickets.py, queues.py)
ticket_urls: list = [
    path("", queues.queue, name="queue"),
    path("reassign/", queues.bulk_reassign, name="bulk_reassign"),
    path("new/<int:customer_pk>/", tickets.new_ticket, name="new"),
    path("<int:pk>/", tickets.ticket, name="ticket"),
    path("<int:pk>/take/", tickets.take, name="take"),
    path("<int:pk>/step/", tickets.step, name="step"),
    path("<int:pk>/hand-off/", tickets.hand_off, name="hand_off"),
    path("<int:pk>/start/", tickets.start, name="start"),
    path("<int:pk>/wait/", tickets.wait, name="wait"),
    path("<int:pk>/resume/", tickets.resume, name="resume"),
    path("<int:pk>/resolve/", tickets.resolve, name="resolve"),
    path("<int:pk>/close/", tickets.close, name="close"),
    path("<int:pk>/reopen/", tickets.reopen, name="reopen"),
    path("<int:pk>/cancel/", tickets.cancel, name="cancel"),
    path("<int:pk>/assign/", tickets.assign, name="assign"),
    path("<int:pk>/sla/", tickets.change_sla, name="change_sla"),
    path("step/<int:pk>/attachment/", tickets.attachment, name="attachment"),
]

# --- Admin: categories, teams, SLA policies, the working calendar (service/views/settings.py) ---
settings_urls: list = [
    path("settings/", settings.settings_page, name="settings"),
    path("settings/categories/new/", settings.setting_form, {"kind": "category"}, name="category_add"),
    path("settings/categories/<int:pk>/", settings.setting_form, {"kind": "category"}, name="category_edit"),
    path("settings/teams/new/", settings.setting_form, {"kind": "team"}, name="team_add"),
    path("settings/teams/<int:pk>/", settings.setting_form, {"kind": "team"}, name="team_edit"),
    path("settings/sla/new/", settings.setting_form, {"kind": "sla"}, name="sla_add"),
    path("settings/sla/<int:pk>/", settings.setting_form, {"kind": "sla"}, name="sla_edit"),
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
