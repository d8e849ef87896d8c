import logging

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Prefetch
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from . import audit, inbox, invitations, jobs
from .forms import UserForm
from .models import Job
from .permissions import logged_in, public, require
from .roles import ROLE_NAMES

User = get_user_model()
logger = logging.getLogger(__name__)


@public
@never_cache
def healthz(request):
    """For load balancers: 200 when the database (and the broker, if configured) answer."""
    from django.conf import settings

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:
        return JsonResponse({"status": "unavailable"}, status=503)
    if settings.CELERY_BROKER_URL:
        try:
            from .celery import app

            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, timeout=2)
        except Exception:
            return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@require("auth.view_user")
def user_list(request):
    roles = Prefetch("groups", queryset=Group.objects.filter(name__in=ROLE_NAMES))
    users = User.objects.order_by("username").prefetch_related(roles)
    return render(request, "users/user_list.html", {"users": users})


@require("auth.add_user")
def user_create(request):
    """A new user without a password, and their invitation to set one (crm.invitations)."""
    form = UserForm(request.POST or None, editor=request.user)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save()
            audit.record(
                "user.create",
                request=request,
                obj=user,
                summary=user.get_username(),
                changes={"role": [None, form.cleaned_data.get("role") or None]},
            )
        messages.success(request, _("User %(name)s created.") % {"name": user.get_username()})
        if invitations.refusal(user):  # created inactive: the invitation waits for "Active"
            return redirect("users:edit", pk=user.pk)
        return _hand_over(request, user, invitations.INVITATION)
    return render(request, "users/user_form.html", {"form": form, "mail_enabled": invitations.mail_enabled()})


def _managed_user(pk: int):
    """A user the Users page may change: superusers are managed outside the CRM (403)."""
    user = get_object_or_404(User, pk=pk)
    if user.is_superuser:
        raise PermissionDenied
    return user


@require("auth.change_user")
def user_edit(request, pk):
    user = _managed_user(pk)
    form = UserForm(request.POST or None, instance=user, editor=request.user)
    if request.method == "POST" and form.is_valid():
        before = {name: form.initial.get(name) for name in form.changed_data}
        with transaction.atomic():
            form.save()
            changes = audit.diff(before, {n: form.cleaned_data[n] for n in before})
            audit.record("user.update", request=request, obj=user, summary=user.get_username(), changes=changes)
        messages.success(request, _("User %(name)s saved.") % {"name": user.get_username()})
        return redirect("users:list")
    context = {"form": form, "edited_user": user, "mail_enabled": invitations.mail_enabled()}
    return render(request, "users/user_form.html", context)


@require("auth.change_user")
@require_POST
def user_reset_link(request, pk):
    """A one-time link for the user to set a new password (Admins never set it for them)."""
    user = _managed_user(pk)
    refusal = invitations.refusal(user)
    if refusal:
        messages.error(request, refusal)
        return redirect("users:edit", pk=user.pk)
    return _hand_over(request, user, invitations.RESET)


def _hand_over(request, user, kind: str):
    """Email the link (crm.invitations.deliver), or show it once; audited either way, never the link."""
    delivery = invitations.deliver(request, user, kind)
    action = "user.invite" if kind == invitations.INVITATION else "user.reset_link"
    audit.record(
        action,
        request=request,
        obj=user,
        summary=user.get_username(),
        notes=delivery.emailed_to,
        data={"delivery": delivery.how},
    )
    if delivery.emailed_to and kind == invitations.INVITATION:
        messages.success(request, _("An invitation was sent to %(email)s.") % {"email": delivery.emailed_to})
        return redirect("users:list")
    if delivery.emailed_to:
        messages.success(request, _("A password-reset link was sent to %(email)s.") % {"email": delivery.emailed_to})
        return redirect("users:edit", pk=user.pk)
    context = {"edited_user": user, "link": delivery.link, "kind": kind, "mail_failed": delivery.mail_failed}
    response = render(request, "users/user_link.html", {**context, "valid_hours": invitations.valid_hours()})
    add_never_cache_headers(response)  # the link is in no cache, no history to come back to
    return response


def _own_job(request, pk) -> Job:
    """A job is visible only to the user who started it, while they keep the kind's permission."""
    job = Job.objects.filter(pk=pk, created_by=request.user).first()
    if job is None:
        raise Http404
    if not request.user.has_perm(jobs.kind_permission(job.kind)):
        raise Http404
    return job


@logged_in
def job_status(request, pk):
    job = _own_job(request, pk)
    jobs.mark_dead_jobs_failed([job])
    job.refresh_from_db()
    context = {"job": job, "expired": jobs.is_expired(job), "elsewhere": jobs.downloads_elsewhere(job.kind)}
    if request.htmx:
        return render(request, "jobs/job_status.html#progress", context)
    return render(request, "jobs/job_status.html", context)


@logged_in
def job_download(request, pk):
    job = _own_job(request, pk)
    if job.state != Job.State.DONE or not job.file or jobs.is_expired(job) or jobs.downloads_elsewhere(job.kind):
        raise Http404
    audit.record("job.download", request=request, obj=job, object_type="job", data={"kind": job.kind})
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=job.file.name.rsplit("/", 1)[-1])


@logged_in
@require_POST
def job_retry(request, pk):
    job = _own_job(request, pk)
    jobs.mark_dead_jobs_failed([job])
    job.refresh_from_db()
    if job.state != Job.State.FAILED:
        messages.error(request, _("Only a failed job can be retried."))
    else:
        jobs.retry(job)
        messages.info(request, _("The job was queued again."))
    return redirect("jobs:status", pk=job.pk)


@logged_in
@never_cache
def inbox_page(request):
    """What waits for the user, one section per inbox source they have (crm/inbox.py).

    Each section is drawn before its source is marked seen, so what is new shows as new this
    once; from the next page on the header no longer counts it. A user with no source (no role)
    has no inbox: 403, like every page of a role they lack.
    """
    sources = inbox.sources_for(request.user)
    if not sources:
        raise PermissionDenied
    seen = inbox.seen_times(request.user, sources)
    sections = [
        {"source": source, "panel": source.panel(request, seen.get(source.key)) if source.panel else ""}
        for source in sources
    ]
    inbox.mark_seen(request.user, sources)
    return render(request, "inbox/inbox.html", {"sections": sections})
