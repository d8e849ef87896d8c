"""The access export as a job (crm.jobs), downloadable once by the Admin who asked for it.

:func:`start` queues a ``privacy_access`` job for an open access request whose requester's identity
was checked; the runner (:func:`run_job`) collects the card's records (privacy.access), writes the
JSON or the .xlsx, attaches it to the job and audits the generation on the card. :func:`take`
hands the file over once: under the job row's lock it reads the file, deletes it and marks the job
downloaded, and audits the download; a second download finds no file and is told so. crm's own
job download (jobs:download) refuses this kind (registered with ``own_download``), so the file
has one way out. A file never downloaded is deleted when the export files expire
(``EXPORT_FILE_TTL_HOURS``) or when the card is erased (crm.forget).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from crm import jobs
from crm.models import Job
from customers.models import Customer

from . import access
from .models import DataRequest
from .requests import record, require_identity

JOB_KIND = Job.Kind.PRIVACY_ACCESS
FORMATS = {"json": "application/json", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def start(data_request: DataRequest, fmt: str, *, by) -> Job:
    if fmt not in FORMATS:
        raise ValidationError(_("Choose JSON or Excel."))
    require_identity(data_request)
    params = {"request": data_request.pk, "format": fmt, "language": translation.get_language() or "en"}
    return jobs.start(JOB_KIND, user=by, params=params)


def run_job(job: Job, progress) -> dict:
    """The runner: collect, write, attach, audit (on the card, naming the request and the job)."""
    params = job.params or {}
    data_request = DataRequest.objects.get(pk=params["request"])
    require_identity(data_request)
    fmt = params.get("format", "json")
    customer = Customer.objects.get(pk=data_request.customer_id)
    with translation.override(params.get("language") or "en"):
        data = access.collect(customer)
        rows = access.row_count(data)
        progress(0, rows)
        with tempfile.TemporaryFile() as handle:
            access.write_xlsx(data, handle) if fmt == "xlsx" else access.write_json(data, handle)
            handle.seek(0)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
            job.file.save(f"access-{customer.customer_no}-{stamp}.{fmt}", File(handle), save=False)
    record(
        "privacy.access_export", data_request, job.created_by, data={"format": fmt, "rows": rows, "job": str(job.pk)}
    )
    return {"rows": rows, "request": data_request.pk, "format": fmt}


def jobs_of(data_request: DataRequest):
    return Job.objects.filter(kind=JOB_KIND, params__request=data_request.pk).order_by("-created_at")


@dataclass(frozen=True)
class Download:
    name: str
    content: bytes
    content_type: str


def take(job: Job, *, by, request=None) -> Download:
    """The file, once, to the Admin who generated it; then it is gone (ValidationError says why)."""
    with transaction.atomic():
        locked = Job.objects.select_for_update().get(pk=job.pk)
        if locked.created_by_id != by.pk:
            raise ValidationError(_("Only the Admin who generated this export may download it."))
        if (locked.result or {}).get("downloaded_at"):
            raise ValidationError(
                _("This export was downloaded already, at %(time)s; it can be downloaded only once. Generate it again.")
                % {"time": locked.result["downloaded_at"]}
            )
        if locked.state != Job.State.DONE or not locked.file or jobs.is_expired(locked):
            raise ValidationError(
                _("This export is not available (not finished, expired or deleted). Generate it again.")
            )
        name = locked.file.name
        with default_storage.open(name, "rb") as handle:
            content = handle.read()
        moment = timezone.localtime().strftime("%Y-%m-%d %H:%M")
        Job.objects.filter(pk=locked.pk).update(file="", result={**(locked.result or {}), "downloaded_at": moment})
        data_request = DataRequest.objects.get(pk=locked.params["request"])
        data = {"format": locked.params.get("format"), "job": str(locked.pk)}
        record("privacy.access_download", data_request, by, request, data=data)
        transaction.on_commit(lambda: default_storage.delete(name))
    fmt = locked.params.get("format", "json")
    return Download(name.rsplit("/", 1)[-1], content, FORMATS.get(fmt, "application/octet-stream"))
