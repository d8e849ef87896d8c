"""Importing historical closures: a company moving in brings years of closed, voided and archived cards.

The same experience as the customer import (customers/imports), whose machinery it reuses: the
upload is read safely with the customer import's readers and limits (reading.py: .xlsx and CSV,
UTF-8 or GB18030), stored for its uploader between the preview and the confirmation (uploads.py),
and problems are collected with their line and column (report.py). The preview lists every
problem; only a file without any can be confirmed, and the confirmation checks it all again and
writes everything in one transaction, or nothing (operation.py).

Each row goes through the closure rules and writes (closures.rules, closures.writes) with its
historical date, so the tallies, the monthly trend, tenure at closure and the churn rate see it as
if it had been recorded at the time. Columns and the template: columns.py; cell by cell: cells.py;
size caps (the import runs in the request): limits.py.
"""

from django.utils.translation import gettext as _

from customers.imports import StoredUpload, read_rows
from customers.imports.limits import megabytes
from customers.imports.uploads import keep_problems

from .columns import COLUMNS, template_bytes
from .limits import max_bytes, max_rows
from .operation import PERMISSIONS, HistoryReport, import_history

__all__ = [
    "COLUMNS",
    "PERMISSIONS",
    "HistoryReport",
    "confirm_upload",
    "import_history",
    "max_bytes",
    "max_rows",
    "preview_upload",
    "template_bytes",
    "too_large_message",
]


def preview_upload(upload: StoredUpload, *, user) -> HistoryReport:
    """The dry run of a stored upload: every problem (kept beside the upload), nothing written."""
    if upload.size > max_bytes():
        return too_large(upload)
    with upload.open() as handle:
        report = import_history(lambda: read_rows(handle, upload.file_name), upload.file_name, user=user, commit=False)
    keep_problems(upload, report)  # for the copy with the problems marked (customers.imports.marked)
    return report


def confirm_upload(upload: StoredUpload, *, user, request=None) -> HistoryReport:
    """Import a stored upload for real: every row checked again, then everything in one transaction, or nothing."""
    if upload.size > max_bytes():
        return too_large(upload)
    with upload.open() as handle:
        return import_history(
            lambda: read_rows(handle, upload.file_name), upload.file_name, user=user, commit=True, request=request
        )


def too_large_message() -> str:
    return _("The file is larger than %(limit)s; split the history into several files of up to %(rows)s rows.") % {
        "limit": megabytes(max_bytes()),
        "rows": f"{max_rows():,}",
    }


def too_large(upload: StoredUpload) -> HistoryReport:
    return HistoryReport(file_name=upload.file_name, file_errors=[too_large_message()])
