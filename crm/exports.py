"""The one export pipeline: what every export (closures, customers) does the same way.

An app describes its export in a subclass of :class:`Export`: which rows (its selection, from
its own filters), how they are written (its columns and cells, through crm.xlsx's streaming
workbook or crm.spreadsheets' CSV writer), how the selection is kept in a job and in the audit
trail. This module does the rest, identically for all:

- the formats and their content types;
- small exports are answered in the request: written to a temporary file as they go, audited,
  sent as an attachment (``closures-20240131-0930.xlsx``);
- larger ones (more rows than the app's setting allows in a request) run as a job (crm.jobs)
  when the app registered its job kinds: :meth:`Export.run_job` is their runner; it selects
  the same rows again in the requester's language, writes them to a temporary file, attaches
  it to the job and audits it;
- every export is audited once, with its format, row count and selection;
- the column headers are in the exporter's language, or the machine names (``customer_no``)
  when they tick "Machine column names" (the MACHINE_NAMES field) for an integration: both
  travel with a job, which writes the file as the request would have.

crm imports none of the apps: they subclass :class:`Export` and register ``run_job`` for their
job kinds with crm.jobs in their AppConfig.ready().
"""

import tempfile
from collections.abc import Callable

from django.conf import settings
from django.core.files import File
from django.db.models import QuerySet
from django.http import FileResponse
from django.utils import timezone, translation

from . import audit, jobs
from .models import Job

# The export buttons' checkbox: headers as machine names (customer_no) instead of the exporter's words.
MACHINE_NAMES = "machine_names"


def wants_machine_names(data) -> bool:
    """True when the request's GET or POST ticked "Machine column names"."""
    return data.get(MACHINE_NAMES) in ("1", "on", "true")


FORMATS = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


class Export:
    """One export a user asked for: a selection of rows, which can be written in any of FORMATS.

    A subclass sets the class attributes and implements the methods of "the app's part"."""

    name = ""  # the file name's start and the audit entry's object type: "closures"
    audit_action = ""  # "closures.export"
    job_kinds: dict[str, str] = {}  # format -> Job.Kind of the job that writes it
    max_rows_setting = ""  # the setting that caps an export answered in the request
    default_max_rows = 10_000
    machine_names = False  # headers as machine names (set by the view; kept by a job)

    # --- the app's part ---------------------------------------------------------------------
    def rows(self) -> QuerySet:
        """The selected rows (only counted here, to decide between the request and a job)."""
        raise NotImplementedError

    def write(self, fmt: str, out, *, progress: Callable | None = None) -> int:
        """Write the selection as ``fmt`` into the binary file ``out``; return the number of rows."""
        raise NotImplementedError

    def params(self) -> dict:
        """What a job keeps (JSON) to select the same rows again: see :meth:`from_params`."""
        raise NotImplementedError

    @classmethod
    def from_params(cls, params: dict, user) -> "Export":
        """The export a job runs, from :meth:`params` and who asked; ValueError if they are not valid."""
        raise NotImplementedError

    def audit_selection(self) -> dict:
        """The selection for the audit entry's changes, as raw values (``{"filters": params}``); the
        app registers how they read (crm.audit_display.register_value), in the reader's language."""
        raise NotImplementedError

    def done_message(self, rows: int) -> str:
        """The job's result, in the requester's language: "250,000 closures exported."."""
        raise NotImplementedError

    # --- the pipeline ---------------------------------------------------------------------------
    @classmethod
    def direct_max_rows(cls) -> int:
        """Exports up to this many rows are answered in the request; larger ones run as a job."""
        return getattr(settings, cls.max_rows_setting, cls.default_max_rows)

    def fits_in_request(self) -> bool:
        limit = self.direct_max_rows()
        return self.rows().order_by().values("pk")[: limit + 1].count() <= limit

    def runs_as_job(self, fmt: str) -> bool:
        """True when the export is too large for the request and a runner is registered for it."""
        try:
            jobs.kind_permission(self.job_kinds[fmt])
        except KeyError:
            return False
        return not self.fits_in_request()

    def filename(self, fmt: str) -> str:
        return f"{self.name}-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"

    def record(self, fmt: str, rows: int, *, request=None, actor=None, job: Job | None = None) -> None:
        """The audit entry of one export: who (the request's user or the job's), which rows, how many."""
        audit.record(
            self.audit_action,
            request=request,
            actor=actor,
            object_type="job" if job else self.name,
            object_id=job.pk if job else "",
            changes={"format": [None, fmt], "rows": [None, rows]}
            | {name: [None, value] for name, value in self.audit_selection().items()},
        )

    def respond(self, request, fmt: str) -> FileResponse:
        """A small export, written to a temporary file, audited, and sent as the response."""
        handle = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it after sending)
        rows = self.write(fmt, handle)
        handle.seek(0)
        self.record(fmt, rows, request=request)
        return FileResponse(handle, as_attachment=True, filename=self.filename(fmt), content_type=FORMATS[fmt])

    def job_params(self) -> dict:
        """What the job keeps: the selection (:meth:`params`), the user's language and the header choice."""
        return self.params() | {
            "language": translation.get_language() or settings.LANGUAGE_CODE,
            MACHINE_NAMES: bool(self.machine_names),
        }

    def start_job(self, user, fmt: str) -> Job:
        """Queue the export as a job (its runner is :meth:`run_job`)."""
        return jobs.start(self.job_kinds[fmt], user=user, params=self.job_params())

    @classmethod
    def run_job(cls, job: Job, progress: Callable) -> dict:
        """The crm.jobs runner of the job kinds: write the file, attach it to the job, audit it."""
        fmt = {kind: fmt for fmt, kind in cls.job_kinds.items()}[job.kind]
        params = job.params or {}
        with translation.override(params.get("language") or settings.LANGUAGE_CODE):
            export = cls.from_params(params, job.created_by)
            export.machine_names = bool(params.get(MACHINE_NAMES))
            with tempfile.TemporaryFile() as handle:
                rows = export.write(fmt, handle, progress=progress)
                handle.seek(0)
                job.file.save(export.filename(fmt), File(handle), save=False)
            export.record(fmt, rows, actor=job.created_by, job=job)
            summary = export.done_message(rows)
        return {"rows": rows, "summary": summary}
