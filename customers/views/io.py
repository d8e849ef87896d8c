"""Import and export of customers (Admin). The work is in customers.imports and customers.exports."""

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST
from django_htmx.http import HttpResponseClientRefresh

from crm import jobs
from crm.exports import FORMATS, wants_machine_names
from crm.models import Job
from crm.permissions import require

from .. import exports, imports
from ..filters import filtered_customers
from ..imports import marked

UPLOAD_PAGE = "customers/import_upload.html"
PREVIEW_PAGE = "customers/import_preview.html"
STATUS_PAGE = "customers/import_status.html"


@require("customers.export_customers")
def export(request):
    """The current search (box, filters, sort) as .xlsx or CSV; a large one runs as a job."""
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(_("Unknown export format."))
    _filterset, queryset = filtered_customers(request.GET, request.user)
    export = exports.CustomerExport(queryset, exports.search_params(request.GET))
    export.machine_names = wants_machine_names(request.GET)
    if export.runs_as_job(fmt):
        job = export.start_job(request.user, fmt)
        messages.info(request, _("This export is large; it is being prepared and will be ready to download here."))
        return redirect("jobs:status", pk=job.pk)
    return export.respond(request, fmt)


@require("customers.import_customers")
@csrf_exempt  # _upload is csrf_protect'ed: the size guard must come before Django reads the body
def import_upload(request):
    """Upload a file and see the dry run; ?upload=<id> follows a large upload's background job."""
    if request.method == "POST":
        if imports.request_too_large(request):
            return _upload_refused(request)  # nothing was read or changed, so no CSRF check is needed
        request.upload_handlers.insert(0, imports.UploadLimitHandler(request))
    elif request.GET.get("upload"):
        return _upload_status(request, request.GET["upload"])
    return _upload(request)


@csrf_protect
def _upload(request):
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    too_large = getattr(request, "import_upload_too_large", False)  # set by UploadLimitHandler while parsing
    form = imports.UploadForm(data, files, too_large=too_large)
    if too_large:
        return _upload_refused(request, form)
    if request.method == "POST" and form.is_valid():
        upload = imports.save_upload(
            form.cleaned_data["file"], request.user, generate_numbers=form.cleaned_data["generate_numbers"]
        )
        if imports.runs_as_job(upload):
            imports.start_job(upload, request.user, "preview")
            return redirect(_status_url(upload))
        report = imports.preview_upload(upload, user=request.user)
        if not report.file_errors:  # a file with problems is kept for the copy with them marked
            return _show_report(request, upload, report, discard=not report.ok and not report.problem_count)
        imports.discard_upload(upload.upload_id)
        for error in report.file_errors:
            form.add_error("file", error)
    return render(request, UPLOAD_PAGE, {"form": form})


def _upload_refused(request, form=None):
    form = form or imports.UploadForm(data={}, files={}, too_large=True)
    form.is_valid()  # the file field then carries the "larger than" message
    return render(request, UPLOAD_PAGE, {"form": form}, status=413)


def _show_report(request, upload, report, *, discard: bool, failed: bool = False):
    context = marked.preview_context(
        upload, report, discard=discard, failed=failed, marked_url_name="customers:import_marked"
    )
    return render(request, PREVIEW_PAGE, context)


def _status_url(upload) -> str:
    return f"{reverse('customers:import')}?upload={upload.upload_id}"


def _not_found(request):
    messages.error(request, _("This upload was not found or has expired; upload the file again."))
    return redirect("customers:import")


def _upload_status(request, upload_id: str):
    """A large upload's check or import: progress while its job runs, then the report."""
    try:
        upload = imports.open_upload(upload_id, request.user, need_file=False)
    except imports.UploadNotFound:
        return _not_found(request)
    job = imports.latest_job(upload, request.user)
    if job is None:
        return _not_found(request)
    jobs.mark_dead_jobs_failed([job])
    job.refresh_from_db()
    report = imports.load_report(upload) if job.state == Job.State.DONE else None
    if report is None:
        if request.htmx and job.state not in (Job.State.QUEUED, Job.State.RUNNING):
            return HttpResponseClientRefresh()
        template = f"{STATUS_PAGE}#progress" if request.htmx else STATUS_PAGE
        return render(request, template, {"job": job, "upload": upload})
    if request.htmx:
        return HttpResponseClientRefresh()
    failed = job.params.get("stage") == "confirm" and not report.written
    return _show_report(request, upload, report, discard=False, failed=failed)


@require("customers.import_customers")
def import_marked(request, upload_id):
    """The uploader's file as .xlsx with every problem cell marked and explained (customers.imports.marked)."""
    try:
        upload = imports.open_upload(upload_id, request.user)
    except imports.UploadNotFound:
        raise Http404 from None
    if not marked.has_marked_copy(upload):
        raise Http404
    return FileResponse(marked.marked_copy(upload), as_attachment=True, filename=marked.download_name(upload))


@require("customers.import_customers")
def import_template(request, fmt):
    if fmt not in imports.FORMATS:
        raise Http404
    response = HttpResponse(imports.template_bytes(fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="customer-import-template.{fmt}"'
    return response


@require("customers.import_customers")
@require_POST
def import_confirm(request):
    """Import the upload the same user previewed: all rows in one transaction, or none."""
    try:
        upload = imports.open_upload(request.POST.get("upload", ""), request.user)
    except imports.UploadNotFound:
        return _not_found(request)
    if imports.runs_as_job(upload):
        job = imports.latest_job(upload, request.user)
        if job is None or job.params.get("stage") != "confirm" or job.state == Job.State.FAILED:
            imports.start_job(upload, request.user, "confirm")
        return redirect(_status_url(upload))
    report = imports.confirm_upload(upload, user=request.user, request=request)
    if not report.written:
        return _show_report(request, upload, report, discard=True, failed=True)
    imports.discard_upload(upload.upload_id)
    messages.success(
        request,
        _("Imported %(file)s: %(created)d new and %(updated)d updated customers.")
        % {"file": report.file_name, "created": report.created, "updated": report.updated},
    )
    if not report.generated:
        return redirect("customers:search")
    messages.info(request, imports.generated_message(report))
    return redirect(f"{reverse('customers:search')}?batch={report.batch_id}")  # the new cards, numbers and all
