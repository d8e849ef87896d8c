"""The exit survey's public page: the signed link is the only check (no login).

GET shows the survey in the customer's language (``?lang=`` switches it); POST records the answer
once (followups.answers.record_answer) and redirects to the thank-you page. A link that is garbled,
too old, already answered or no longer needed gets a page saying so in plain words, never an error.
"""

from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from crm.permissions import public

from .. import survey as exit_survey
from ..answers import record_answer
from ..links import LinkError, survey_followup
from ..models import Answer

# What each page that is not the survey answers with.
STATUS = {"invalid": 404, "expired": 410, "gone": 410, "answered": 200, "thanks": 200, "too_many": 429}


@public
@never_cache
@require_http_methods(["GET", "POST"])
def survey(request, token: str):
    asked = exit_survey.asked_language(request.GET.get("lang", ""))
    if request.method == "POST" and exit_survey.too_many_posts(request, token):
        return _notice(request, None, "too_many", asked)
    try:
        followup = survey_followup(token)
    except LinkError as error:
        if error.expired:
            return _notice(request, exit_survey.expired_followup(token), "expired", asked)
        return _notice(request, None, "invalid", asked)
    why = exit_survey.unavailable(followup)
    if why:
        return _notice(request, followup, "thanks" if why == "answered" and "done" in request.GET else why, asked)
    with translation.override(exit_survey.language_for(followup, asked)):
        posted = request.POST if request.method == "POST" else None  # an empty POST is still a POST
        form = exit_survey.SurveyForm(posted, offered=exit_survey.reasons())
        if posted is not None and form.is_valid():
            try:
                record_answer(followup, source=Answer.Source.SURVEY, request=request, **form.answer())
            except ValidationError as error:
                return _notice(request, followup, "answered" if error.code == "answered" else "gone", asked)
            return redirect(f"{request.path}?{f'lang={asked}&' if asked else ''}done=1")
        return _page(request, "followups/survey.html", followup, asked, {"form": form})


def _notice(request, followup, what: str, asked: str):
    """The page for a link that cannot be answered (or was just answered), with its status."""
    return _page(request, "followups/survey_notice.html", followup, asked, {"what": what}, status=STATUS[what])


def _page(request, template: str, followup, asked: str, context: dict, status: int = 200):
    language = exit_survey.language_for(followup, asked) if followup else _visitor_language(asked)
    with translation.override(language):
        context |= {
            "lang": language,
            "languages": exit_survey.other_languages(language),
            "name": exit_survey.greeting_name(followup.customer) if followup else "",
        }
        response = render(request, template, context, status=status)
    response["Content-Language"] = language
    return response


def _visitor_language(asked: str) -> str:
    """Without a follow-up: the language asked for, else the browser's (LocaleMiddleware)."""
    return exit_survey.language_for(None, asked) if asked else translation.get_language()
