"""Who may use each followups:* route (world objects in followups_world.py, when there are some).

Everyone works their own callbacks; Managers and Admins see and reassign the team's and record
improvement actions; the policy and message templates are Admin pages; the survey and unsubscribe
pages are public (the signed link is the check).
"""

from .routes import EVERYONE, Route

ROUTES = [
    Route("followups:queue", EVERYONE),
    # The exit survey (world objects in followups_survey_world.py): the signed link is the check, so
    # anyone holding it, logged in or not, gets the survey and may answer it once.
    Route("followups:survey", EVERYONE, kwargs=lambda w: {"token": w.survey_token}, public=True),
    Route(
        "followups:survey",
        EVERYONE,
        method="POST",
        kwargs=lambda w: {"token": w.survey_token},
        data=lambda w: {"csat": "4"},
        public=True,
        ok=(302,),
    ),
]
