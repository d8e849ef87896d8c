"""Every copy of an erased customer's data that crm keeps beyond the card's own rows.

Erasure (closures/erasure.py) blanks the card and redacts the card's own audit entries. A card's
values also travel where nothing ties them to the card:

- audit entries without a customer: an export's entry keeps the search that selected it ("张伟");
- job records: an export job keeps its search in ``params``, a job's result or error may quote it;
- files on disk: every export file names each customer it holds (its number is in every row), and
  export files used to stay on disk for good after their download expired.

:func:`forget_values` redacts the records, inside the erasure's transaction. :func:`forget_files`
runs once the erasure has committed: it deletes every export file that names the card (or any card
of a retention run's batch), and every
expired export file (:func:`purge_expired_files`, also run whenever a job starts). Other apps scan
their own files with :func:`names_customer` (customers.imports does, for uploads kept until they
are confirmed).
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from .models import AuditEntry, Job, redact_value

SCAN_CHUNK = 1 << 20
# The characters a customer number is made of (customers.numbers): a match must not be part of a longer one.
_NUMBER_CHARS = rb"A-Za-z0-9._/\-"


# What higher apps keep that may quote a card without being tied to it (privacy: the request
# register's notes); each is called with the values, inside the erasure's transaction.
_FORGETTERS: list[Callable[[list[str]], None]] = []


def register(forgetter: Callable[[list[str]], None]) -> None:
    """A higher app's own redaction of an erased card's values (called by :func:`forget_values`)."""
    if forgetter not in _FORGETTERS:
        _FORGETTERS.append(forgetter)


def forget_values(values: list[str]) -> None:
    """Replace an erased card's values in audit entries not tied to a card, in job records and in
    what the apps registered (:func:`register`)."""
    values = sorted({str(v) for v in values if v and len(str(v)) >= 2}, key=len, reverse=True)
    if not values:
        return
    for forgetter in _FORGETTERS:
        forgetter(values)
    AuditEntry.objects.filter(customer_id__isnull=True).exclude(action__startswith="auth.").redact(values)
    for job in Job.objects.only("pk", "params", "result", "error").iterator(chunk_size=500):
        before = {"params": job.params, "result": job.result, "error": job.error}
        after = {name: redact_value(value, values) for name, value in before.items()}
        if after != before:
            Job.objects.filter(pk=job.pk).update(**after)


def forget_files(numbers: Iterable[str]) -> int:
    """Delete the export files that name any of the cards ``numbers``, and the expired ones; returns
    how many. Each file is read once, however many cards (a retention run erases them by the batch)."""
    numbers = [n for n in numbers if n]
    removed = purge_expired_files()
    for job in Job.objects.filter(state=Job.State.DONE).exclude(file="").only("pk", "file", "result"):
        if names_any(job.file.name, numbers):
            _drop_file(job, reason="erased")
            removed += 1
    return removed


def purge_expired_files() -> int:
    """Export files whose download expired (EXPORT_FILE_TTL_HOURS) leave the disk; returns how many."""
    cutoff = timezone.now() - timedelta(hours=settings.EXPORT_FILE_TTL_HOURS)
    expired = Job.objects.filter(state=Job.State.DONE, finished_at__lt=cutoff).exclude(file="")
    count = 0
    for job in expired.only("pk", "file", "result"):
        _drop_file(job, reason="expired")
        count += 1
    return count


def _drop_file(job: Job, *, reason: str) -> None:
    if default_storage.exists(job.file.name):
        default_storage.delete(job.file.name)
    Job.objects.filter(pk=job.pk).update(file="", result={**(job.result or {}), "file_removed": reason})


def names_customer(path: str, number: str) -> bool:
    """Whether the stored file ``path`` names the customer ``number`` (any case), inside a zip
    (.xlsx) too. The file is read in chunks; a match must be the whole number, not part of one."""
    return names_any(path, [number])


def names_any(path: str, numbers: Iterable[str]) -> bool:
    """Whether the stored file ``path`` names any of the customers ``numbers`` (as :func:`names_customer`)."""
    numbers = sorted({n for n in numbers if n}, key=len, reverse=True)
    if not numbers or not path or not default_storage.exists(path):
        return False
    either = b"|".join(re.escape(n.encode()) for n in numbers)
    pattern = re.compile(
        rb"(?<![" + _NUMBER_CHARS + rb"])(?:" + either + rb")(?![" + _NUMBER_CHARS + rb"])", re.IGNORECASE
    )
    width = len(numbers[0].encode())
    with default_storage.open(path, "rb") as handle:
        if handle.read(4) == b"PK\x03\x04":
            handle.seek(0)
            try:
                with zipfile.ZipFile(handle) as archive:
                    return any(_stream_matches(archive.open(member), pattern, width) for member in archive.infolist())
            except zipfile.BadZipFile:
                pass
        handle.seek(0)
        return _stream_matches(handle, pattern, width)


def _stream_matches(stream, pattern: re.Pattern, width: int) -> bool:
    tail = b""
    with stream:
        while chunk := stream.read(SCAN_CHUNK):
            window = tail + chunk
            if pattern.search(window):
                return True
            tail = window[-(width + 2) :]
    return False
