"""The pages of an import of past records (closures/views/imports.py, service/views/transfer.py):
upload and dry run, the copy with its problems marked, the template, confirm all or nothing.

Each import describes itself once (:class:`ImportPages`: its form, templates, what previews and
what writes); its views only add their permission. The upload is kept between the steps the
customer import's way (customers.imports: stored for its uploader, refused past the size limit
before it is read).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect

from crm.exports import FORMATS

from . import FORMATS as UPLOAD_FORMATS
from . import UploadLimitHandler, UploadNotFound, discard_upload, marked, open_upload, request_too_large, save_upload


@dataclass(frozen=True)
class ImportPages:
    namespace: str  # its URL names: <namespace>:import, :import_confirm, :import_marked
    form_class: type  # a customers.imports.UploadForm
    upload_page: str
    preview_page: str
    template_name: str  # the downloaded template's file name, without its extension
    preview: Callable  # (upload, user) -> report, nothing written
    confirm: Callable  # (upload, user, request) -> report, every row in one transaction or none
    template_bytes: Callable  # (fmt) -> bytes
    done_message: Callable  # (report) -> what the success message says

    def upload(self, request):
        """The upload page and, for a POST, the dry run. Call from a ``csrf_exempt`` view: the size
        guard must come before Django reads the body; the rest is CSRF-protected."""
        if request.method == "POST":
            if request_too_large(request):
                return self._refused(request)  # nothing was read or changed, so no CSRF check is needed
            request.upload_handlers.insert(0, UploadLimitHandler(request))
        return _checked_upload(request, self)

    def _upload(self, request):
        data, files = (request.POST, request.FILES) if request.method == "POST" else (None, None)
        too_large = getattr(request, "import_upload_too_large", False)  # set by UploadLimitHandler while parsing
        form = self.form_class(data, files, too_large=too_large)
        if too_large:
            return self._refused(request, form)
        if request.method == "POST" and form.is_valid():
            upload = save_upload(form.cleaned_data["file"], request.user)
            report = self.preview(upload, user=request.user)
            if not report.file_errors:  # a file with problems is kept for the copy with them marked
                return self._show(request, upload, report, discard=not report.ok and not report.problem_count)
            discard_upload(upload.upload_id)
            for error in report.file_errors:
                form.add_error("file", error)
        return render(request, self.upload_page, {"form": form})

    def _refused(self, request, form=None):
        form = form or self.form_class(data={}, files={}, too_large=True)
        form.is_valid()  # the file field then carries the "larger than" message
        return render(request, self.upload_page, {"form": form}, status=413)

    def _show(self, request, upload, report, *, discard: bool, failed: bool = False):
        context = marked.preview_context(
            upload, report, discard=discard, failed=failed, marked_url_name=f"{self.namespace}:import_marked"
        )
        return render(request, self.preview_page, context)

    def marked_copy(self, request, upload_id):
        """The uploader's file as .xlsx with every problem cell marked and explained."""
        try:
            upload = open_upload(upload_id, request.user)
        except UploadNotFound:
            raise Http404 from None
        if not marked.has_marked_copy(upload):
            raise Http404
        return FileResponse(marked.marked_copy(upload), as_attachment=True, filename=marked.download_name(upload))

    def template(self, request, fmt):
        if fmt not in UPLOAD_FORMATS:
            raise Http404
        response = HttpResponse(self.template_bytes(fmt), content_type=FORMATS[fmt])
        response["Content-Disposition"] = f'attachment; filename="{self.template_name}.{fmt}"'
        return response

    def confirmed(self, request):
        """Import the upload the same user previewed: every row in one transaction, or none."""
        try:
            upload = open_upload(request.POST.get("upload", ""), request.user)
        except UploadNotFound:
            messages.error(request, _("This upload was not found or has expired; upload the file again."))
            return redirect(f"{self.namespace}:import")
        report = self.confirm(upload, user=request.user, request=request)
        discard_upload(upload.upload_id)
        if not report.written:
            return self._show(request, upload, report, discard=False, failed=True)
        messages.success(request, self.done_message(report))
        return redirect(f"{self.namespace}:import")


@csrf_protect
def _checked_upload(request, pages: ImportPages):
    return pages._upload(request)
