"""Who may use each followups:* route (world objects in followups_*_world.py).

Everyone works their own callbacks; Managers and Admins see and reassign the team's and record
improvement actions; the policy and message templates are Admin pages; the survey and unsubscribe
pages are public (the signed link is the check).

Another Staff member's follow-up answers 403 (the object exists; the queue's permission check
refuses it), the same as a page the role does not have at all.
"""

from .routes import ADMINS, EVERYONE, MANAGERS, Route


def _rule(w):
    return {"pk": w.policy_rule.pk}


def _new_rule(w):
    return {
        "action": "close",
        "category": "",
        "segment": "regular",  # key accounts have their callback in the default policy already
        "kind": "callback",
        "channel": "phone",
        "delay_days": "3",
    }


_TEMPLATE = {"kind": "survey", "channel": "email", "language": "zh-hans"}
_WORDS = {"subject": "{name}，请告诉我们原因", "body": "{name}您好：{survey_link}"}


ROUTES = [
    Route("followups:queue", EVERYONE),
    Route("followups:queue", EVERYONE, query="tab=overdue&page=2"),
    Route("followups:team", MANAGERS),
    Route("followups:team", MANAGERS, query="state=failed&assignee=none&kind=survey&due=overdue&reason=1"),
    Route("followups:team", MANAGERS, query="state=to_reinstate&assignee=x"),
    Route(
        "followups:reassign",
        MANAGERS,
        method="POST",
        data=lambda w: {"ids": [w.callback.pk], "to": w.colleague.pk},
        ok=(302,),
    ),
    # Staff open their own callbacks; another Staff member's answers 403.
    Route("followups:followup", EVERYONE, kwargs=lambda w: {"pk": w.callback.pk}),
    Route("followups:followup", MANAGERS, kwargs=lambda w: {"pk": w.colleague_callback.pk}),
    Route("followups:followup", MANAGERS, kwargs=lambda w: {"pk": w.failed_message.pk}),
    Route(
        "followups:followup",
        EVERYONE,
        method="POST",
        kwargs=lambda w: {"pk": w.callback.pk},
        data=lambda w: {"outcome": "not_reached", "note": "No answer"},
        ok=(302,),
    ),
    Route(
        "followups:followup",
        MANAGERS,
        method="POST",
        kwargs=lambda w: {"pk": w.colleague_callback.pk},
        data=lambda w: {"outcome": "not_reached"},
        ok=(302,),
    ),
    Route(
        "followups:reinstate",
        MANAGERS,
        method="POST",
        kwargs=lambda w: {"pk": w.comes_back.pk},
        data=lambda w: {"note": ""},
        ok=(302,),
    ),
    Route(
        "followups:decline",
        MANAGERS,
        method="POST",
        kwargs=lambda w: {"pk": w.comes_back.pk},
        data=lambda w: {"note": "还欠款"},
        ok=(302,),
    ),
    Route("followups:retry", MANAGERS, method="POST", kwargs=lambda w: {"pk": w.failed_message.pk}, ok=(302,)),
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
        data=lambda w: {
            "action": "close",
            "segment": "potential",
            "kind": "notice",
            "channel": "sms",
            "delay_days": "0",
        },
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

ROUTES += [
    Route("followups:improvement_list", MANAGERS),
    Route("followups:improvement_add", MANAGERS),
    Route("followups:improvement_edit", MANAGERS, kwargs=lambda w: {"pk": w.improvement.pk}),
    Route("followups:improvement_delete", MANAGERS, kwargs=lambda w: {"pk": w.improvement.pk}),
]
