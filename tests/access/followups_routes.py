"""Who may use each followups:* route (world objects in followups_world.py, when there are some).

Everyone works their own callbacks; Managers and Admins see and reassign the team's and record
improvement actions; the policy and message templates are Admin pages; the survey and unsubscribe
pages are public (the signed link is the check).
"""

from .routes import ADMINS, EVERYONE, Route


def _rule(w):
    return {"pk": w.policy_rule.pk}


def _new_rule(w):
    return {
        "action": "close",
        "category": "",
        "segment": "key",
        "kind": "callback",
        "channel": "phone",
        "delay_days": "3",
    }


_TEMPLATE = {"kind": "survey", "channel": "email", "language": "zh-hans"}
_WORDS = {"subject": "{name}，请告诉我们原因", "body": "{name}您好：{survey_link}"}

ROUTES = [
    Route("followups:queue", EVERYONE),
    # The policy and message templates (Admin)
    Route("followups:policy", ADMINS),
    Route("followups:policy_rule_create", ADMINS),
    Route("followups:policy_rule_create", ADMINS, method="POST", data=_new_rule, ok=(302,)),
    Route("followups:policy_rule_edit", ADMINS, kwargs=_rule),
    Route(
        "followups:policy_rule_edit",
        ADMINS,
        method="POST",
        kwargs=_rule,
        data=lambda w: {"action": "close", "kind": "notice", "channel": "sms", "delay_days": "0"},
        ok=(302,),
    ),
    Route("followups:policy_rule_delete", ADMINS, kwargs=_rule),
    Route("followups:policy_rule_delete", ADMINS, method="POST", kwargs=_rule, ok=(302,)),
    Route(
        "followups:policy_rule_move",
        ADMINS,
        method="POST",
        kwargs=_rule,
        data=lambda w: {"direction": "down"},
        ok=(302,),
    ),
    Route(
        "followups:policy_rule_active", ADMINS, method="POST", kwargs=_rule, data=lambda w: {"active": "0"}, ok=(302,)
    ),
    Route("followups:policy_template", ADMINS, kwargs=lambda w: _TEMPLATE),
    Route(
        "followups:policy_template", ADMINS, method="POST", kwargs=lambda w: _TEMPLATE, data=lambda w: _WORDS, ok=(302,)
    ),
    Route(
        "followups:policy_template",
        ADMINS,
        method="POST",
        kwargs=lambda w: _TEMPLATE,
        data=lambda w: {**_WORDS, "preview": "1"},
    ),
]
