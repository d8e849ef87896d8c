"""A step's attachment: an image or a PDF, checked by its content (never by its name or the type the
browser claims) and limited in size (SERVICE_ATTACHMENT_MAX_MB, 5 MB by default). Stored through
Django's default storage, like export files (MEDIA_ROOT or the S3 bucket), and served only through
the ticket's permission-checked download view."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# The first bytes of each type accepted, and the type it is stored and served as.
SIGNATURES = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def max_bytes() -> int:
    return int(getattr(settings, "SERVICE_ATTACHMENT_MAX_MB", 5)) * 1024 * 1024


def sniff(head: bytes) -> str | None:
    """The type of a file from its first bytes; None for anything else (HTML named .png included)."""
    for signature, content_type in SIGNATURES:
        if head.startswith(signature):
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


def check(upload) -> str:
    """The attachment's real type, or a ValidationError saying what is wrong with it."""
    if upload.size > max_bytes():
        raise ValidationError(
            _("The file is too big (%(size)s MB); attachments may be at most %(max)s MB.")
            % {"size": round(upload.size / 1024 / 1024, 1), "max": max_bytes() // 1024 // 1024},
            code="too_big",
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    content_type = sniff(head)
    if content_type is None:
        raise ValidationError(
            _("Only images (PNG, JPEG, GIF, WebP) and PDF files can be attached; this file is neither."),
            code="type",
        )
    return content_type
