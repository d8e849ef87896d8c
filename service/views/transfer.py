"""Export of a queue view (service.export_tickets) and import of historical tickets with their steps
(service.import_tickets): upload, preview with every problem by line and column, confirm all or
nothing. The work is in service/exports.py and service/import_tickets.py; the pages are an
import's pages (customers/imports/pages.py)."""

from django import forms
from django.contrib import messages
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.exports import FORMATS, wants_machine_names
from crm.permissions import require
from customers import imports as uploads
from customers.imports.limits import megabytes
from customers.imports.pages import ImportPages

from .. import exports, import_columns, import_tickets

IMPORT = import_tickets.PERMISSION


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


PAGES = ImportPages(
    namespace="service",
    form_class=TicketUploadForm,
    upload_page="service/import_upload.html",
    preview_page="service/import_preview.html",
    template_name="tickets-template",
    preview=import_tickets.preview_upload,
    confirm=import_tickets.confirm_upload,
    template_bytes=import_columns.template_bytes,
    done_message=lambda report: (
        _("Imported %(file)s: %(tickets)d tickets with %(steps)d steps.")
        % {"file": report.file_name, "tickets": report.tickets, "steps": report.steps}
    ),
)


@require(IMPORT)
@csrf_exempt  # the size guard must come before Django reads the body; the rest is csrf_protect'ed
def import_upload(request):
    """Upload a file of historical tickets and see the dry run."""
    return PAGES.upload(request)


@require(IMPORT)
def import_marked(request, upload_id):
    """The uploader's file as .xlsx with every problem cell marked and explained."""
    return PAGES.marked_copy(request, upload_id)


@require(IMPORT)
def import_template(request, fmt):
    return PAGES.template(request, fmt)


@require(IMPORT)
@require_POST
def import_confirm(request):
    """Import the upload the same user previewed: every row in one transaction, or none."""
    return PAGES.confirmed(request)
