"""Large imports as background jobs (crm.jobs), so no request runs longer than a proxy allows.

An upload larger than settings.IMPORT_DIRECT_MAX_BYTES (default 1 MB, about 10,000 rows)
is checked and, once confirmed, imported by a ``customers_import`` job instead of in the
request: gunicorn stops a request after 30 s, and 100,000 rows take longer than that to
check and write on a busy machine. The job keeps its report beside the upload
(report.json); the import page polls the job and then shows that report, so the preview
and the confirmation look the same whichever way they ran. The kind must be registered in
customers/apps.py; without it every import runs in the request.
"""

import json

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext as _

from crm import jobs
from crm.models import Job

from .marked import has_marked_copy, marked_copy
from .report import ImportReport
from .uploads import StoredUpload, UploadNotFound, confirm_upload, open_upload, preview_upload

KIND = Job.Kind.CUSTOMERS_IMPORT
STAGES = ("preview", "confirm")
DEFAULT_DIRECT_MAX_BYTES = 1024 * 1024


def runs_as_job(upload: StoredUpload) -> bool:
    """True when this upload is large and the job kind is registered."""
    try:
        jobs.kind_permission(KIND)
    except KeyError:
        return False
    return upload.size > getattr(settings, "IMPORT_DIRECT_MAX_BYTES", DEFAULT_DIRECT_MAX_BYTES)


def start_job(upload: StoredUpload, user, stage: str) -> Job:
    return jobs.start(KIND, user=user, params={"upload": upload.upload_id, "stage": stage})


def latest_job(upload: StoredUpload, user) -> Job | None:
    found = Job.objects.filter(kind=KIND, created_by=user, params__upload=upload.upload_id)
    return found.order_by("-created_at").first()


def save_report(upload: StoredUpload, report: ImportReport) -> None:
    if default_storage.exists(upload.report_path):
        default_storage.delete(upload.report_path)
    default_storage.save(upload.report_path, ContentFile(json.dumps(report.as_dict()).encode()))


def load_report(upload: StoredUpload) -> ImportReport | None:
    try:
        with default_storage.open(upload.report_path, "rb") as handle:
            return ImportReport.from_dict(json.loads(handle.read()))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def retire_upload(upload: StoredUpload) -> None:
    """After the import: the file and decoded rows go; meta.json and the report stay for the result page."""
    for path in (upload.path, upload.rows_path):
        if default_storage.exists(path):
            default_storage.delete(path)


def run_import_job(job: Job, progress) -> dict:
    """crm.jobs runner for customers_import: the preview or the confirmed import of one upload."""
    stage = job.params.get("stage")
    try:
        upload = open_upload(job.params.get("upload", ""), job.created_by)
    except UploadNotFound:
        raise ValueError(_("The uploaded file has expired or was already imported; upload it again.")) from None
    if stage not in STAGES:
        raise ValueError(f"unknown import stage {stage!r}")
    before = load_report(upload) if stage == "confirm" else None
    total = before.rows if before else None

    def step(done: int) -> None:
        progress(done, total)

    if stage == "preview":
        report = preview_upload(upload, user=job.created_by, progress=step)
        if report.problem_count and has_marked_copy(upload):
            marked_copy(upload).close()  # built here: too long for the request that downloads it
    else:
        report = confirm_upload(upload, user=job.created_by, progress=step)
        retire_upload(upload)
    save_report(upload, report)
    if report.written:
        summary = _("Imported %(file)s: %(created)d new and %(updated)d updated customers.") % {
            "file": report.file_name,
            "created": report.created,
            "updated": report.updated,
        }
    elif report.ok:
        summary = _("%(file)s is valid: confirm the import on the import page.") % {"file": report.file_name}
    else:
        summary = _("%(file)s has problems; nothing was imported.") % {"file": report.file_name}
    return {"rows": report.rows, "summary": summary, "stage": stage, "ok": report.ok, "written": report.written}
