"""Export of a queue view (service.export_tickets) and import of historical tickets with their steps
(service.import_tickets): upload, preview with every problem by line and column, confirm all or
nothing. The work is in service/exports.py and service/import_tickets.py; the upload is kept
between the steps the customer import's way (customers.imports)."""

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from crm.exports import FORMATS, wants_machine_names
from crm.permissions import require
from customers import imports as uploads
from customers.imports import marked
from customers.imports.limits import megabytes

from .. import exports, import_columns, import_tickets

IMPORT = import_tickets.PERMISSION
UPLOAD_PAGE = "service/import_upload.html"
PREVIEW_PAGE = "service/import_preview.html"


@require("service.export_tickets")
def export(request):
    """The queue view's tickets (its GET filters) as .xlsx or CSV; a large export runs as a job."""
    fmt = request.GET.get("format", "xlsx")
    if fmt not in FORMATS:
        return HttpResponseBadRequest(_("Unknown export format."))
    params = exports.params_of(request.GET)
    export = exports.TicketExport(exports.filtered_tickets(params, request.user), params)
    export.machine_names = wants_machine_names(request.GET)
    if export.runs_as_job(fmt):
        job = export.start_job(request.user, fmt)
        messages.info(request, _("This export is large; it is being prepared and will be ready to download here."))
        return redirect("jobs:status", pk=job.pk)
    return export.respond(request, fmt)


class TicketUploadForm(uploads.UploadForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["generate_numbers"]
        self.fields["file"].label = gettext_lazy("Tickets file (.xlsx or .csv)")
        self.fields["file"].help_text = _("Up to %(size)s and %(rows)s rows, tickets and steps together.") % {
            "size": megabytes(import_tickets.max_bytes()),
            "rows": f"{import_tickets.max_rows():,}",
        }

    def clean_file(self):
        uploaded = super().clean_file()
        if uploaded.size > import_tickets.max_bytes():
            raise forms.ValidationError(import_tickets.too_large_message())
        return uploaded


@require(IMPORT)
@csrf_exempt  # _upload is csrf_protect'ed: the size guard must come before Django reads the body
def import_upload(request):
    """Upload a file of historical tickets and see the dry run."""
    if request.method == "POST":
        if uploads.request_too_large(request):
            return _refused(request)  # nothing was read or changed, so no CSRF check is needed
        request.upload_handlers.insert(0, uploads.UploadLimitHandler(request))
    return _upload(request)


@csrf_protect
def _upload(request):
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    too_large = getattr(request, "import_upload_too_large", False)
    form = TicketUploadForm(data, files, too_large=too_large)
    if too_large:
        return _refused(request, form)
    if request.method == "POST" and form.is_valid():
        upload = uploads.save_upload(form.cleaned_data["file"], request.user)
        report = import_tickets.preview_upload(upload, user=request.user)
        if not report.file_errors:
            return _show(request, upload, report, discard=not report.ok and not report.problem_count)
        uploads.discard_upload(upload.upload_id)
        for error in report.file_errors:
            form.add_error("file", error)
    return render(request, UPLOAD_PAGE, {"form": form})


def _refused(request, form=None):
    form = form or TicketUploadForm(data={}, files={}, too_large=True)
    form.is_valid()
    return render(request, UPLOAD_PAGE, {"form": form}, status=413)


def _show(request, upload, report, *, discard: bool, failed: bool = False):
    context = marked.preview_context(
        upload, report, discard=discard, failed=failed, marked_url_name="service:import_marked"
    )
    return render(request, PREVIEW_PAGE, context)


@require(IMPORT)
def import_marked(request, upload_id):
    """The uploader's file as .xlsx with every problem cell marked and explained."""
    try:
        upload = uploads.open_upload(upload_id, request.user)
    except uploads.UploadNotFound:
        raise Http404 from None
    if not marked.has_marked_copy(upload):
        raise Http404
    return FileResponse(marked.marked_copy(upload), as_attachment=True, filename=marked.download_name(upload))


@require(IMPORT)
def import_template(request, fmt):
    if fmt not in uploads.FORMATS:
        raise Http404
    response = HttpResponse(import_columns.template_bytes(fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="tickets-template.{fmt}"'
    return response


@require(IMPORT)
@require_POST
def import_confirm(request):
    """Import the upload the same user previewed: every row in one transaction, or none."""
    try:
        upload = uploads.open_upload(request.POST.get("upload", ""), request.user)
    except uploads.UploadNotFound:
        messages.error(request, _("This upload was not found or has expired; upload the file again."))
        return redirect("service:import")
    report = import_tickets.confirm_upload(upload, user=request.user, request=request)
    uploads.discard_upload(upload.upload_id)
    if not report.written:
        return _show(request, upload, report, discard=False, failed=True)
    messages.success(
        request,
        _("Imported %(file)s: %(tickets)d tickets with %(steps)d steps.")
        % {"file": report.file_name, "tickets": report.tickets, "steps": report.steps},
    )
    return redirect("service:import")
