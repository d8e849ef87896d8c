"""The import of historical closures (Admin): upload, preview with every problem, confirm all or nothing.

The work is in closures.imports; the pages are an import's pages (customers/imports/pages.py).
"""

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm.permissions import require
from customers import imports as uploads
from customers.imports.limits import megabytes
from customers.imports.pages import ImportPages

from .. import imports


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


PAGES = ImportPages(
    namespace="closures",
    form_class=HistoryUploadForm,
    upload_page="closures/import_upload.html",
    preview_page="closures/import_preview.html",
    template_name="closure-history-template",
    preview=imports.preview_upload,
    confirm=imports.confirm_upload,
    template_bytes=imports.template_bytes,
    done_message=lambda report: (
        _("Imported %(file)s: %(count)d historical closures.") % {"file": report.file_name, "count": report.closures}
    ),
)


@require(*imports.PERMISSIONS)
@csrf_exempt  # the size guard must come before Django reads the body; the rest is csrf_protect'ed
def history_import(request):
    """Upload a file of past closures and see the dry run."""
    return PAGES.upload(request)


@require(*imports.PERMISSIONS)
def history_import_marked(request, upload_id):
    """The uploader's file as .xlsx with every problem cell marked and explained (customers.imports.marked)."""
    return PAGES.marked_copy(request, upload_id)


@require(*imports.PERMISSIONS)
def history_import_template(request, fmt):
    return PAGES.template(request, fmt)


@require(*imports.PERMISSIONS)
@require_POST
def history_import_confirm(request):
    """Import the upload the same user previewed: every row in one transaction, or none."""
    return PAGES.confirmed(request)
