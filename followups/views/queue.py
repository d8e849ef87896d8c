"""The follow-ups queue: my callbacks due today, overdue, upcoming and done; the team's for Managers
(filters, reassigning, failed messages with their error and "send again", won-back cards to
reinstate); and one follow-up's page, where a callback's outcome is recorded."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from closures.settlement import words as settlement_words
from crm import scopes
from crm.audit_display import describe
from crm.models import AuditEntry
from crm.pagination import page_of
from crm.permissions import require

from .. import callbacks
from ..callback_forms import TO_REINSTATE, UNASSIGNED, OutcomeForm, ReassignForm, ReinstateForm, TeamFilter
from ..models import Answer, Followup, Kind

TABS = ("today", "overdue", "upcoming", "done")
ROW_RELATED = ("customer", "closure__reason", "closure__settled_to", "assigned_to")
# What a row of the lists shows (followups/_rows.html), not every column of five tables: the team
# view's page of overdue price callbacks read its 26 rows in 10 ms with them, 4 ms without
# (1M cards, 628k follow-ups). A field left out would be read again row by row: a test counts.
LIST_RELATED = ("customer", "closure__reason", "assigned_to")
LIST_FIELDS = (
    *("kind", "channel", "state", "outcome", "won_back", "due_at", "done_at", "attempts", "note", "last_error"),
    *("customer_id", "closure_id", "assigned_to_id", "customer__customer_no", "customer__name"),
    *("closure__action", "closure__performed_at", "closure__reason__code", "closure__reason__label_en"),
    *("closure__reason__label_zh", "assigned_to__username", "assigned_to__first_name", "assigned_to__last_name"),
)


def _day_bounds() -> tuple[dt.datetime, dt.datetime]:
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + dt.timedelta(days=1)


def _due(queryset, when: str):
    start, end = _day_bounds()
    if when == "today":
        return queryset.filter(due_at__gte=start, due_at__lt=end)
    if when == "overdue":
        return queryset.filter(due_at__lt=start)
    if when == "upcoming":
        return queryset.filter(due_at__gte=end)
    return queryset


def my_callbacks(user, tab: str):
    mine = scopes.visible(Followup.objects.filter(assigned_to_id=user.pk, kind=Kind.CALLBACK), user)
    mine = mine.select_related(*LIST_RELATED).only(*LIST_FIELDS)
    if tab == "done":
        return mine.filter(state=Followup.State.DONE).order_by("-done_at", "-pk")
    return _due(mine.filter(state=Followup.State.PENDING), tab).order_by("due_at", "pk")


def team_followups(filters: dict, user):
    """Everyone's follow-ups on the cards in ``user``'s data scope, as ``filters`` select."""
    state = filters.get("state")
    rows = scopes.visible(callbacks.to_reinstate() if state == TO_REINSTATE else Followup.objects.all(), user)
    if state and state != TO_REINSTATE:
        rows = rows.filter(state=state)
    if filters.get("assignee") == UNASSIGNED:
        rows = rows.filter(assigned_to=None)
    elif filters.get("assignee"):
        rows = rows.filter(assigned_to_id=int(filters["assignee"]))
    if filters.get("kind"):
        rows = rows.filter(kind=filters["kind"])
    if filters.get("reason"):
        rows = rows.filter(closure__reason=filters["reason"])
    rows = _due(rows, filters.get("due") or "").select_related(*LIST_RELATED).only(*LIST_FIELDS)
    return rows.order_by("due_at", "pk")


def _mark_overdue(rows) -> None:
    start, _end = _day_bounds()
    for row in rows:
        row.is_overdue = row.state == Followup.State.PENDING and row.due_at < start


@require("followups.view_followup")
def queue(request):
    """My callbacks, by tab (?tab=today|overdue|upcoming|done)."""
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "today"
    page_obj = page_of(request, my_callbacks(request.user, tab))
    _mark_overdue(page_obj.object_list)
    context = {"tab": tab, "tabs": TABS, "page_obj": page_obj, "overdue_count": _overdue_count(request.user)}
    return render(request, "followups/queue.html", context)


def _overdue_count(user) -> int:
    start, _end = _day_bounds()
    return callbacks.due_now(user).filter(due_at__lt=start)[:100].count()


@require("followups.view_followup", "followups.manage_followups")
def team(request):
    """Everyone's follow-ups, filtered in the URL; tick rows to reassign them."""
    filters = TeamFilter(request.GET)
    rows = team_followups(
        filters.cleaned_data if filters.is_valid() else {"state": Followup.State.PENDING}, request.user
    )
    page_obj = page_of(request, rows)
    _mark_overdue(page_obj.object_list)
    context = {"filters": filters, "page_obj": page_obj, "reassign_form": ReassignForm()}
    return render(request, "followups/team.html", context)


@require_POST
@require("followups.change_followup", "followups.manage_followups")
def reassign(request):
    form = ReassignForm(request.POST)
    if form.is_valid():
        try:
            moved = callbacks.reassign(form.cleaned_data["ids"], to=form.assignee(), by=request.user, request=request)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request, ngettext("%(n)s callback reassigned.", "%(n)s callbacks reassigned.", moved) % {"n": moved}
            )
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(_back_to_team(request))


def _back_to_team(request) -> str:
    query = request.POST.get("query", "")
    return reverse("followups:team") + (f"?{query}" if query and "\n" not in query else "")


def _workable(request, pk: int) -> Followup:
    """The follow-up, if the user may open it: their own, or anyone's for a Manager (403 otherwise)."""
    followup = get_object_or_404(
        scopes.visible(Followup.objects.select_related(*ROW_RELATED, "done_by"), request.user), pk=pk
    )
    if followup.assigned_to_id != request.user.pk and not request.user.has_perm(callbacks.MANAGE):
        raise PermissionDenied
    return followup


@require("followups.view_followup")
def followup(request, pk: int):
    """One follow-up: the card's summary, the closure, earlier answers, and the outcome form."""
    item = _workable(request, pk)
    form = OutcomeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            callbacks.record_outcome(item, by=request.user, request=request, **form.values())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            item.refresh_from_db()
            messages.success(request, _("Recorded: %(outcome)s.") % {"outcome": item.get_outcome_display()})
            return redirect("followups:followup", pk=item.pk)
    return render(request, "followups/followup.html", _followup_context(request, item, form))


def _followup_context(request, item: Followup, form) -> dict:
    closure = item.closure
    answers = Answer.objects.filter(customer_id=item.customer_id).select_related("reason", "recorded_by")
    # The card's entries (index audit_customer_at) about this follow-up: each call, reassignment, retry.
    history = AuditEntry.objects.filter(customer_id=item.customer_id, object_type="followup", object_id=str(item.pk))
    history = history.order_by("-at")[:50]
    return {
        "item": item,
        "customer": item.customer,
        "closure": closure,
        "settlement": settlement_words(
            closure.settlement, closure.settlement_method, getattr(closure.settled_to, "customer_no", "")
        ),
        "answers": list(answers.order_by("-answered_at")[:20]),
        "history": describe(history, unmasked=True),
        "form": form,
        "workable": item.kind == Kind.CALLBACK
        and item.state == Followup.State.PENDING
        and callbacks.may_work(request.user, item),
        "reinstate_form": ReinstateForm(),
    }


@require_POST
@require("followups.manage_followups", "closures.reinstate_closure")
def reinstate(request, pk: int):
    """A Manager reinstates the card of a customer who wants to come back (recorded by Staff)."""
    item = _workable(request, pk)
    form = ReinstateForm(request.POST)
    form.is_valid()
    try:
        callbacks.confirm_reinstatement(item, by=request.user, note=form.cleaned_data.get("note", ""), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Card %(number)s reinstated: won back.") % {"number": item.customer.customer_no})
    return redirect("followups:followup", pk=item.pk)


@require_POST
@require("followups.manage_followups")
def decline(request, pk: int):
    """A Manager keeps the card closed although the customer wanted to come back, saying why."""
    item = _workable(request, pk)
    try:
        callbacks.decline_reinstatement(item, by=request.user, note=request.POST.get("note", ""), request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Card %(number)s stays closed.") % {"number": item.customer.customer_no})
    return redirect("followups:followup", pk=item.pk)


@require_POST
@require("followups.change_followup", "followups.manage_followups")
def retry(request, pk: int):
    """A failed message goes back to the senders, due now."""
    item = _workable(request, pk)
    try:
        callbacks.retry(item, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The message will be sent again."))
    if _safe_next(request):
        return redirect(request.POST["next"])
    return redirect("followups:followup", pk=item.pk)


def _safe_next(request) -> bool:
    target = request.POST.get("next", "")
    return bool(target) and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()})
