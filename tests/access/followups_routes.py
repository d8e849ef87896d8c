"""Who may use each followups:* route (world objects in followups_world.py, when there are some).

Everyone works their own callbacks; Managers and Admins see and reassign the team's and record
improvement actions; the policy and message templates are Admin pages; the survey and unsubscribe
pages are public (the signed link is the check).
"""

from .routes import EVERYONE, MANAGERS, Route

ROUTES = [
    Route("followups:queue", EVERYONE),
]

ROUTES += [
    Route("followups:improvement_list", MANAGERS),
    Route("followups:improvement_add", MANAGERS),
    Route("followups:improvement_edit", MANAGERS, kwargs=lambda w: {"pk": w.improvement.pk}),
    Route("followups:improvement_delete", MANAGERS, kwargs=lambda w: {"pk": w.improvement.pk}),
]
