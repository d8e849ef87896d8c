from django.urls import path  # noqa: F401

app_name = "service"

# Each block belongs to one part of the app; keep them apart so they merge cleanly.

# --- Queues, the ticket page and its operations, new ticket from a card (service/views/tickets.py, queues.py)
ticket_urls: list = []

# --- Admin: categories, teams, SLA policies, the working calendar (service/views/settings.py) ---
settings_urls: list = []

# --- Import of historical tickets, export of a queue (service/views/transfer.py) ---------------
transfer_urls: list = []

urlpatterns = ticket_urls + settings_urls + transfer_urls
