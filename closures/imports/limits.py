"""How large a historical closures file may be.

The import runs in the request (the customer import's background job is tied to its own job
kind), so the file is capped where a preview and a confirmation stay well inside a proxy's 30 s:
IMPORT_DIRECT_MAX_BYTES (1 MB, the size the customer import still runs in the request) and
CLOSURE_IMPORT_MAX_ROWS (10,000 rows). A larger history is imported as several files.
"""

from django.conf import settings

from customers.imports import max_bytes as upload_max_bytes

DEFAULT_MAX_BYTES = 1024 * 1024
DEFAULT_MAX_ROWS = 10_000


def max_bytes() -> int:
    return min(upload_max_bytes(), getattr(settings, "IMPORT_DIRECT_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_rows() -> int:
    return getattr(settings, "CLOSURE_IMPORT_MAX_ROWS", DEFAULT_MAX_ROWS)
