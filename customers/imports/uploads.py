"""Uploads kept between the preview and the confirmation, the upload form and the size guard.

An upload lives in MEDIA_ROOT/imports/<uuid>/ (through the default storage) with a small
meta.json naming its uploader and the options chosen with it: only that user may confirm it,
within UPLOAD_TTL, once. A file with problems is kept as long, with its problems
(problems.json), for the copy with the problems marked (marked.py).
"""

import contextlib
import datetime as dt
import json
import re
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath

from django import forms
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.forget import names_any

from .operation import run_import
from .reading import (
    CellError,
    Formula,
    ImportFileError,
    check_size,
    file_format,
    max_bytes,
    max_rows,
    megabytes,
    read_rows,
    too_large_message,
)
from .report import ImportReport

UPLOAD_DIR = "imports"
UPLOAD_TTL = dt.timedelta(hours=24)


_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


class UploadNotFound(Exception):
    """No upload with this id for this user (never existed, someone else's, expired or already used)."""


@dataclass(frozen=True)
class StoredUpload:
    upload_id: str
    file_name: str
    path: str
    generate_numbers: bool = False  # new rows without a customer number get a generated one

    @property
    def rows_path(self) -> str:
        return f"{UPLOAD_DIR}/{self.upload_id}/rows.jsonl"

    @property
    def problems_path(self) -> str:
        return f"{UPLOAD_DIR}/{self.upload_id}/problems.json"

    @property
    def marked_path(self) -> str:
        return f"{UPLOAD_DIR}/{self.upload_id}/marked.xlsx"

    @property
    def report_path(self) -> str:
        return f"{UPLOAD_DIR}/{self.upload_id}/report.json"

    @property
    def size(self) -> int:
        return default_storage.size(self.path)

    def open(self):
        return default_storage.open(self.path, "rb")


def preview_upload(upload: StoredUpload, *, user, progress=None) -> ImportReport:
    """The dry run of a stored upload. For a valid .xlsx the decoded rows are kept for the confirmation.

    Decoding a workbook's XML is a third of the work for a large file; the confirmation
    reads these rows (written by the same reader from the same stored file) instead of
    decoding the workbook a second time, and validates them again in full.
    """
    keep = file_format(upload.file_name) == "xlsx"
    with upload.open() as handle, tempfile.TemporaryFile() as copy:

        def rows():
            source = read_rows(handle, upload.file_name)
            return _tee_rows(source, copy) if keep else source

        report = run_import(
            rows,
            upload.file_name,
            user=user,
            commit=False,
            upload_id=upload.upload_id,
            progress=progress,
            generate_numbers=upload.generate_numbers,
        )
        if keep and report.ok:
            copy.seek(0)
            default_storage.save(upload.rows_path, File(copy))
    keep_problems(upload, report)
    return report


def keep_problems(upload: StoredUpload, report: ImportReport) -> None:
    """Keep a check's problems and warnings beside its upload, for the copy with them marked (marked.py)."""
    for path in (upload.problems_path, upload.marked_path):
        if default_storage.exists(path):
            default_storage.delete(path)
    if not report.problem_count:
        return
    data = {
        "problems": [[p.line, p.column, p.message, p.value] for p in report.problems],
        "warnings": [[w.line, w.column, w.message, w.value] for w in report.warnings],
    }
    default_storage.save(upload.problems_path, ContentFile(json.dumps(data, ensure_ascii=False).encode()))


def confirm_upload(upload: StoredUpload, *, user, request=None, progress=None) -> ImportReport:
    """Import a stored upload for real: everything in one transaction, or nothing."""
    options = {"user": user, "commit": True, "request": request, "upload_id": upload.upload_id, "progress": progress}
    options["generate_numbers"] = upload.generate_numbers
    if default_storage.exists(upload.rows_path):
        with default_storage.open(upload.rows_path, "rb") as handle:
            return run_import(lambda: _kept_rows(handle), upload.file_name, **options)  # rewinds: read twice
    with upload.open() as handle:
        return run_import(lambda: read_rows(handle, upload.file_name), upload.file_name, **options)


_PLAIN = (str, int, float, bool, type(None))


def _encode_cell(value):
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is Formula:
        return {"f": str(value)}
    if kind is CellError:
        return {"e": str(value)}
    if isinstance(value, dt.datetime | dt.date):
        return {"d": value.isoformat()}
    return str(value)


def _decode_cell(obj: dict):
    if "f" in obj:
        return Formula(obj["f"])
    if "e" in obj:
        return CellError(obj["e"])
    return dt.datetime.fromisoformat(obj["d"])


def _tee_rows(rows, out) -> Iterator[tuple[int, list]]:
    for line, values in rows:
        out.write(json.dumps([line, [_encode_cell(v) for v in values]], ensure_ascii=False).encode() + b"\n")
        yield line, values


def _kept_rows(handle) -> Iterator[tuple[int, list]]:
    handle.seek(0)
    for raw in handle:
        line, values = json.loads(raw, object_hook=_decode_cell)
        yield line, values


def _meta_path(upload_id: str) -> str:
    return f"{UPLOAD_DIR}/{upload_id}/meta.json"


def save_upload(uploaded, user, *, generate_numbers: bool = False) -> StoredUpload:
    """Keep the uploaded file (already size-checked) for the confirmation, tagged with its uploader."""
    check_size(uploaded)
    file_name = PurePath(uploaded.name or "upload").name[:200]
    fmt = file_format(file_name)
    purge_stale_uploads()
    upload_id = uuid.uuid4().hex
    path = f"{UPLOAD_DIR}/{upload_id}/upload.{fmt}"
    # The description first, so a purge running meanwhile never sees a folder without one.
    meta = {"user": user.pk, "file_name": file_name, "path": path, "at": timezone.now().isoformat()}
    meta["generate_numbers"] = bool(generate_numbers)
    default_storage.save(_meta_path(upload_id), ContentFile(json.dumps(meta).encode()))
    uploaded.seek(0)
    if default_storage.save(path, uploaded) != path:
        raise ImportFileError(_("The upload could not be stored; try again."))
    return StoredUpload(upload_id, file_name, path, bool(generate_numbers))


def open_upload(upload_id: str, user, *, need_file: bool = True) -> StoredUpload:
    """The upload ``upload_id`` if ``user`` made it and it has not expired; UploadNotFound otherwise.

    ``need_file=False`` also finds an upload whose file is gone because it was imported
    (its meta.json and report stay until UPLOAD_TTL, for the page that shows the result).
    """
    if not _UPLOAD_ID.fullmatch(upload_id or ""):
        raise UploadNotFound
    try:
        with default_storage.open(_meta_path(upload_id), "rb") as handle:
            meta = json.loads(handle.read())
        at = dt.datetime.fromisoformat(meta["at"])
    except (OSError, ValueError, KeyError, TypeError):
        raise UploadNotFound from None
    if meta.get("user") != user.pk or timezone.now() - at > UPLOAD_TTL:
        raise UploadNotFound
    if need_file and not default_storage.exists(meta["path"]):
        raise UploadNotFound
    return StoredUpload(upload_id, meta["file_name"], meta["path"], bool(meta.get("generate_numbers")))


def discard_upload(upload_id: str) -> None:
    if not _UPLOAD_ID.fullmatch(upload_id or ""):
        return
    folder = f"{UPLOAD_DIR}/{upload_id}"
    try:
        _dirs, files = default_storage.listdir(folder)
    except (FileNotFoundError, NotImplementedError):
        return
    for name in files:
        default_storage.delete(f"{folder}/{name}")
    with contextlib.suppress(OSError):
        default_storage.delete(folder)  # FileSystemStorage removes the empty folder


def forget_customers(numbers: list[str]) -> int:
    """Discard every kept upload that names any of the customers ``numbers`` (the file, its decoded
    rows or its report of problems): erasure leaves no copy of an erased card in a file waiting for
    confirmation."""
    try:
        folders, _files = default_storage.listdir(UPLOAD_DIR)
    except (FileNotFoundError, NotImplementedError):
        return 0
    discarded = 0
    for folder in folders:
        try:
            _dirs, files = default_storage.listdir(f"{UPLOAD_DIR}/{folder}")
        except (FileNotFoundError, NotImplementedError):
            continue
        if any(names_any(f"{UPLOAD_DIR}/{folder}/{name}", numbers) for name in files if name != "meta.json"):
            discard_upload(folder)
            discarded += 1
    return discarded


def purge_stale_uploads() -> None:
    """Delete uploads nobody confirmed within UPLOAD_TTL (called whenever a new one is stored)."""
    try:
        folders, _files = default_storage.listdir(UPLOAD_DIR)
    except (FileNotFoundError, NotImplementedError):
        return
    cutoff = timezone.now() - UPLOAD_TTL
    for folder in folders:
        try:
            with default_storage.open(_meta_path(folder), "rb") as handle:
                at = dt.datetime.fromisoformat(json.loads(handle.read())["at"])
        except (OSError, ValueError, KeyError, TypeError):
            at = None
        if at is None or at < cutoff:
            discard_upload(folder)


class UploadForm(forms.Form):
    """The file to import. ``too_large`` is set when the upload was cut off at the size limit."""

    file = forms.FileField(
        label=gettext_lazy("Customer file (.xlsx or .csv)"),
        required=False,  # checked in clean_file, after the size, so a cut-off upload says why
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv", "required": True}),
    )
    generate_numbers = forms.BooleanField(
        label=gettext_lazy("Generate customer numbers"),
        required=False,
        help_text=gettext_lazy(
            "New customers whose customer number is left empty (or a file without that column) get the next "
            "generated number. Without this, every row needs a customer number."
        ),
    )

    def __init__(self, *args, too_large: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.too_large = too_large
        self.fields["file"].help_text = _(
            "Up to %(size)s and %(rows)s customers. Columns may be named in English or Chinese; "
            "download a template below."
        ) % {"size": megabytes(max_bytes()), "rows": f"{max_rows():,}"}

    def clean_file(self):
        if self.too_large:
            raise forms.ValidationError(too_large_message())
        uploaded = self.cleaned_data.get("file")
        if not uploaded:
            raise forms.ValidationError(_("Choose a file to upload."))
        try:
            file_format(uploaded.name)
            check_size(uploaded)
        except ImportFileError as error:
            raise forms.ValidationError(error.messages) from None
        return uploaded


MULTIPART_OVERHEAD = 64 * 1024


def request_too_large(request) -> bool:
    """True when the declared body is over the limit: refused before Django reads any of it."""
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return declared > max_bytes() + MULTIPART_OVERHEAD


class UploadLimitHandler(FileUploadHandler):
    """Stops reading an uploaded file as soon as it passes the limit (for bodies without a true length)."""

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > max_bytes():
            self.request.import_upload_too_large = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size):
        return None
