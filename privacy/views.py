"""The register's pages (Admins: privacy.manage_datarequest). Each view calls an operation in
privacy/requests.py or privacy/exports.py and shows its refusal next to the form, never a 500."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Job
from crm.pagination import page_of
from crm.permissions import require
from customers.models import Customer

from . import exports, requests
from .forms import ListFilter, NoteForm, RequestForm
from .models import DataRequest

PERMISSION = "privacy.manage_datarequest"


@require(PERMISSION)
def request_list(request):
    filters = ListFilter(request.GET or None)
    page = page_of(request, filters.requests())
    context = {"filters": filters, "page_obj": page, "today": timezone.localdate()}
    return render(request, "privacy/request_list.html", context)


@require(PERMISSION)
def create(request):
    return _register(request, RequestForm(request.POST or None))


@require(PERMISSION, "customers.view_customer")
def register(request, pk: int):
    customer = get_object_or_404(Customer.objects.visible_to(request.user), pk=pk)
    return _register(request, RequestForm(request.POST or None, customer=customer))


def _register(request, form: RequestForm):
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            made = requests.register(
                form.customer, data["kind"], data["received_on"], data["notes"], by=request.user, request=request
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            due = date_format(made.due_on)
            messages.success(request, _("Request registered; it is due on %(day)s.") % {"day": due})
            return redirect("privacy:detail", pk=made.pk)
    context = {"form": form, "customer": form.customer, "days": settings.PRIVACY_REQUEST_DAYS}
    return render(request, "privacy/request_form.html", context)


@require(PERMISSION)
def detail(request, pk: int):
    return _detail(request, _request(pk))


def _detail(request, data_request: DataRequest, form: NoteForm | None = None):
    context = {
        "req": data_request,
        "form": form or NoteForm(),
        "jobs": exports.jobs_of(data_request).filter(created_by=request.user)[:10],
        "done": Job.State.DONE,
    }
    return render(request, "privacy/request_detail.html", context)


@require(PERMISSION)
@require_POST
def check_identity(request, pk: int):
    return _act(
        request,
        pk,
        lambda r: requests.check_identity(r, by=request.user, request=request),
        _("Identity check recorded."),
    )


@require(PERMISSION)
@require_POST
def export(request, pk: int):
    fmt = request.POST.get("format", "")
    return _act(
        request,
        pk,
        lambda r: exports.start(r, fmt, by=request.user),
        _("The access export is being generated; download it below once it is ready."),
    )


@require(PERMISSION)
@require_POST
def download(request, pk: int, job):
    data_request = _request(pk)
    job = get_object_or_404(exports.jobs_of(data_request), pk=job)
    try:
        taken = exports.take(job, by=request.user, request=request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("privacy:detail", pk=data_request.pk)
    response = HttpResponse(taken.content, content_type=taken.content_type)
    response["Content-Disposition"] = f'attachment; filename="{taken.name}"'
    response["Cache-Control"] = "no-store"
    return response


@require(PERMISSION)
@require_POST
def complete(request, pk: int):
    return _answer(request, pk, requests.complete, _("Request answered."))


@require(PERMISSION)
@require_POST
def refuse(request, pk: int):
    return _answer(request, pk, requests.refuse, _("Request refused."))


def _answer(request, pk: int, operation, done: str):
    data_request = _request(pk)
    form = NoteForm(request.POST)
    if form.is_valid():
        try:
            operation(data_request, by=request.user, note=form.cleaned_data["note"], request=request)
        except ValidationError as error:
            form.add_error(None, error)  # a field's message next to it
        else:
            messages.success(request, done)
            return redirect("privacy:detail", pk=pk)
    data_request.refresh_from_db()
    return _detail(request, data_request, form)


def _act(request, pk: int, operation, done: str):
    data_request = _request(pk)
    try:
        operation(data_request)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, done)
    return redirect("privacy:detail", pk=pk)


def _request(pk: int) -> DataRequest:
    queryset = DataRequest.objects.select_related("customer", "identity_checked_by", "done_by", "registered_by")
    return get_object_or_404(queryset, pk=pk)
