from django.urls import path

from .views import improvements, policy, queue, survey, unsubscribe

app_name = "followups"

# Each block belongs to one part of the app; keep them apart so they merge cleanly.

# --- The follow-ups queue and callbacks (followups/views/queue.py) ----------------------------
queue_urls: list = [
    path("", queue.queue, name="queue"),
    path("team/", queue.team, name="team"),
    path("team/reassign/", queue.reassign, name="reassign"),
    path("<int:pk>/", queue.followup, name="followup"),
    path("<int:pk>/reinstate/", queue.reinstate, name="reinstate"),
    path("<int:pk>/decline/", queue.decline, name="decline"),
    path("<int:pk>/retry/", queue.retry, name="retry"),
]

# --- The follow-up policy and message templates (followups/views/policy.py) -------------------
policy_urls: list = [
    path("policy/", policy.policy_page, name="policy"),
    path("policy/rules/new/", policy.rule_create, name="policy_rule_create"),
    path("policy/rules/<int:pk>/", policy.rule_edit, name="policy_rule_edit"),
    path("policy/rules/<int:pk>/delete/", policy.rule_delete, name="policy_rule_delete"),
    path("policy/rules/<int:pk>/move/", policy.rule_move, name="policy_rule_move"),
    path("policy/rules/<int:pk>/active/", policy.rule_active, name="policy_rule_active"),
    path("policy/templates/<str:kind>/<str:channel>/<str:language>/", policy.template_edit, name="policy_template"),
]

# --- Improvement actions (followups/views/improvements.py) ------------------------------------
improvement_urls: list = [
    path("improvements/", improvements.improvement_list, name="improvement_list"),
    path("improvements/new/", improvements.improvement_add, name="improvement_add"),
    path("improvements/<int:pk>/", improvements.improvement_edit, name="improvement_edit"),
    path("improvements/<int:pk>/delete/", improvements.improvement_delete, name="improvement_delete"),
]

# --- Public pages for customers: the exit survey and unsubscribe (no login) --------------------
public_urls: list = [
    path("s/<str:token>/", survey.survey, name="survey"),
    path("u/<str:token>/", unsubscribe.unsubscribe, name="unsubscribe"),
]

urlpatterns = [*queue_urls, *policy_urls, *improvement_urls, *public_urls]
