"""Importing customers from .xlsx and .csv: read safely, validate every row, then write all or nothing.

The flow (customers/views/io.py): the upload is stored under MEDIA_ROOT/imports/<uuid>/ with
its uploader's id (uploads.py); a dry run lists every problem of every row ("Line 7, phone:
This mobile number has 10 digits; Chinese mobiles have 11.") with the counts of new, updated and
unchanged customers: a row with a bad cell still goes through the checks against the database, so
one pass finds everything. A file with problems is kept (for its uploader, UPLOAD_TTL) so it can
be downloaded with every problem cell marked (marked.py). With "Generate customer numbers" a new
row without a number gets one (customers.numbers.next_customer_nos, when the chunk is written).
Only a valid file can be confirmed, only by its uploader; the
confirmation reads the stored upload again, validates every row again against the database
as it is now, and writes everything in one transaction, or nothing. Large uploads do both
steps in a background job (background.py) so no request outlives the proxy's timeout.

Why rows do not go through ``CustomerResource.import_data``: measured here on 5,000 rows,
django-import-export's per-row path costs about 5 ms of CPU per row (a query to find each
instance, ``full_clean`` with a unique check, a save per row), about 500 s for 100,000 rows;
with ``use_bulk``, a cached instance loader and ``batch_size=2000`` still about 2.5 ms per
row (255 s), and ``use_bulk`` skips many-to-many fields (tags). The budget is 60 s. So the
table of columns (customers/columns.py) and the resource's widgets (customers/resources.py)
stay the single definition of the columns and of every cell's validation, and operation.py
drives those widgets itself: rows are read as a stream, cleaned cell by cell, checked
against the database 2,000 at a time (one query for the existing customers, one for their
tags, one for phones on other cards) and written with ``bulk_create`` / ``bulk_update`` per
chunk inside the one transaction, which is rolled back if any row anywhere is bad. Memory is
bounded by the chunk, not the file. The PostgreSQL trigger that keeps the name-gram search
table in step fires for bulk inserts and updates alike (no raw COPY here), so imports need
nothing special for search.

Reading (reading.py): sizes are checked before anything is read; .xlsx files are checked for
zip bombs, DOCTYPEs and oversized parts before anything parses them, their header row is read
first with only the shared strings it holds, and every row is built only as wide as the header
(see reading.py and the xlsx_*.py modules); formulas are never evaluated, a formula cell is
refused with a plain message. CSV is UTF-8 with or without a BOM, or GB18030/GBK.

Writing goes through the card gate (customers/gate.py): a row whose card is closed, void or
archived is a problem like any bad cell ("Card C000123 is closed: reinstate it first to change
it. Or remove the row."), an erased card's row too, and every card created or changed gets its
own audit entry naming the file and the line, inserted in batches (gate.write_import_chunk), so
its history shows the import and erasure finds every value it ever had. The file gets one
``customer.import`` entry more, with its counts. The optional consent columns (customers.columns.
CONSENT_COLUMNS) are compared with the cards' ContactConsent rows (one query a chunk) and written
after the chunk's cards with one upsert and one ``customer.consent`` entry per card
(batch.write_import_consents); a closed, void or archived card's row may change only its consent.
Before the first chunk is written, every existing
card the file names is locked in primary-key order (operation.lock_existing_cards), the order
bulk closing locks in, so the two never deadlock.
"""

from .background import latest_job, load_report, run_import_job, runs_as_job, start_job
from .cleaning import map_columns
from .operation import import_customers
from .reading import FORMATS, ImportFileError, max_bytes, max_rows, read_rows, too_large_message
from .report import ImportReport, Problem, generated_message
from .template import template_bytes
from .uploads import (
    StoredUpload,
    UploadForm,
    UploadLimitHandler,
    UploadNotFound,
    confirm_upload,
    discard_upload,
    open_upload,
    preview_upload,
    purge_stale_uploads,
    request_too_large,
    save_upload,
)

__all__ = [
    "latest_job",
    "load_report",
    "run_import_job",
    "runs_as_job",
    "start_job",
    "FORMATS",
    "ImportFileError",
    "ImportReport",
    "Problem",
    "StoredUpload",
    "UploadForm",
    "UploadLimitHandler",
    "UploadNotFound",
    "confirm_upload",
    "discard_upload",
    "generated_message",
    "import_customers",
    "map_columns",
    "max_bytes",
    "max_rows",
    "open_upload",
    "preview_upload",
    "purge_stale_uploads",
    "read_rows",
    "request_too_large",
    "save_upload",
    "template_bytes",
    "too_large_message",
]
