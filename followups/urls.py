from django.urls import path

from .views import improvements, queue

app_name = "followups"

# Each block belongs to one part of the app; keep them apart so they merge cleanly.

# --- The follow-ups queue and callbacks (followups/views/queue.py) ----------------------------
queue_urls: list = [
    path("", queue.queue, name="queue"),
]

# --- The follow-up policy and message templates (followups/views/policy.py) -------------------
policy_urls: list = []

# --- Improvement actions (followups/views/improvements.py) ------------------------------------
improvement_urls: list = [
    path("improvements/", improvements.improvement_list, name="improvement_list"),
    path("improvements/new/", improvements.improvement_add, name="improvement_add"),
    path("improvements/<int:pk>/", improvements.improvement_edit, name="improvement_edit"),
    path("improvements/<int:pk>/delete/", improvements.improvement_delete, name="improvement_delete"),
]

# --- Public pages for customers: the exit survey and unsubscribe (no login) --------------------
public_urls: list = []

urlpatterns = [*queue_urls, *policy_urls, *improvement_urls, *public_urls]
