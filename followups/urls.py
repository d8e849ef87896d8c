from django.urls import path

from .views import queue, unsubscribe

app_name = "followups"

# Each block belongs to one part of the app; keep them apart so they merge cleanly.

# --- The follow-ups queue and callbacks (followups/views/queue.py) ----------------------------
queue_urls: list = [
    path("", queue.queue, name="queue"),
]

# --- The follow-up policy and message templates (followups/views/policy.py) -------------------
policy_urls: list = []

# --- Improvement actions (followups/views/improvements.py) ------------------------------------
improvement_urls: list = []

# --- Public pages for customers: the exit survey and unsubscribe (no login) --------------------
public_urls: list = [
    path("u/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
]

urlpatterns = [*queue_urls, *policy_urls, *improvement_urls, *public_urls]
