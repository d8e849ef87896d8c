"""Who may use each followups:* route (world objects in followups_world.py, when there are some).

Everyone works their own callbacks; Managers and Admins see and reassign the team's and record
improvement actions; the policy and message templates are Admin pages; the survey and unsubscribe
pages are public (the signed link is the check).
"""

from .routes import EVERYONE, Route

ROUTES = [
    Route("followups:queue", EVERYONE),
    Route("followups:unsubscribe", EVERYONE, kwargs=lambda w: {"token": w.unsubscribe_token}, public=True),
    Route(
        "followups:unsubscribe",
        EVERYONE,
        method="POST",
        kwargs=lambda w: {"token": w.unsubscribe_token},
        data=lambda w: {"List-Unsubscribe": "One-Click"},
        public=True,
    ),
]
