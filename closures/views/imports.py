"""The import of historical closures (Admin): upload, preview with every problem, confirm all or nothing.

The work is in closures.imports; the upload is kept between the steps the customer import's way
(customers.imports: stored for its uploader, refused past the size limit before it is read).
"""

from django import forms
from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from crm.exports import FORMATS
from crm.permissions import require
from customers import imports as uploads
from customers.imports import marked
from customers.imports.limits import megabytes

from .. import imports

UPLOAD_PAGE = "closures/import_upload.html"
PREVIEW_PAGE = "closures/import_preview.html"


class HistoryUploadForm(uploads.UploadForm):
    """The customer import's upload form, with this import's label and smaller size limit."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["generate_numbers"]  # closures name existing cards
        self.fields["file"].label = gettext_lazy("Closures file (.xlsx or .csv)")
        self.fields["file"].help_text = _(
            "Up to %(size)s and %(rows)s rows; split a longer history into several files. "
            "Columns may be named in English or Chinese; download a template below."
        ) % {"size": megabytes(imports.max_bytes()), "rows": f"{imports.max_rows():,}"}

    def clean_file(self):
        uploaded = super().clean_file()
        if uploaded.size > imports.max_bytes():
            raise forms.ValidationError(imports.too_large_message())
        return uploaded


@require(*imports.PERMISSIONS)
@csrf_exempt  # _upload is csrf_protect'ed: the size guard must come before Django reads the body
def history_import(request):
    """Upload a file of past closures and see the dry run."""
    if request.method == "POST":
        if uploads.request_too_large(request):
            return _refused(request)  # nothing was read or changed, so no CSRF check is needed
        request.upload_handlers.insert(0, uploads.UploadLimitHandler(request))
    return _upload(request)


@csrf_protect
def _upload(request):
    data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
    too_large = getattr(request, "import_upload_too_large", False)  # set by UploadLimitHandler while parsing
    form = HistoryUploadForm(data, files, too_large=too_large)
    if too_large:
        return _refused(request, form)
    if request.method == "POST" and form.is_valid():
        upload = uploads.save_upload(form.cleaned_data["file"], request.user)
        report = imports.preview_upload(upload, user=request.user)
        if not report.file_errors:  # a file with problems is kept for the copy with them marked
            return _show(request, upload, report, discard=not report.ok and not report.problem_count)
        uploads.discard_upload(upload.upload_id)
        for error in report.file_errors:
            form.add_error("file", error)
    return render(request, UPLOAD_PAGE, {"form": form})


def _refused(request, form=None):
    form = form or HistoryUploadForm(data={}, files={}, too_large=True)
    form.is_valid()  # the file field then carries the "larger than" message
    return render(request, UPLOAD_PAGE, {"form": form}, status=413)


def _show(request, upload, report, *, discard: bool, failed: bool = False):
    context = marked.preview_context(
        upload, report, discard=discard, failed=failed, marked_url_name="closures:import_marked"
    )
    return render(request, PREVIEW_PAGE, context)


@require(*imports.PERMISSIONS)
def history_import_marked(request, upload_id):
    """The uploader's file as .xlsx with every problem cell marked and explained (customers.imports.marked)."""
    try:
        upload = uploads.open_upload(upload_id, request.user)
    except uploads.UploadNotFound:
        raise Http404 from None
    if not marked.has_marked_copy(upload):
        raise Http404
    return FileResponse(marked.marked_copy(upload), as_attachment=True, filename=marked.download_name(upload))


@require(*imports.PERMISSIONS)
def history_import_template(request, fmt):
    if fmt not in uploads.FORMATS:
        raise Http404
    response = HttpResponse(imports.template_bytes(fmt), content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="closure-history-template.{fmt}"'
    return response


@require(*imports.PERMISSIONS)
@require_POST
def history_import_confirm(request):
    """Import the upload the same user previewed: every row in one transaction, or none."""
    try:
        upload = uploads.open_upload(request.POST.get("upload", ""), request.user)
    except uploads.UploadNotFound:
        messages.error(request, _("This upload was not found or has expired; upload the file again."))
        return redirect("closures:import")
    report = imports.confirm_upload(upload, user=request.user, request=request)
    uploads.discard_upload(upload.upload_id)
    if not report.written:
        return _show(request, upload, report, discard=False, failed=True)
    messages.success(
        request,
        _("Imported %(file)s: %(count)d historical closures.") % {"file": report.file_name, "count": report.closures},
    )
    return redirect("closures:import")
