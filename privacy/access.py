"""The access export (查阅): everything the CRM holds about one customer, and nothing about anyone else.

:func:`collect` reads, per kind of record, the rows tied to the card by its own key (the card, its
purchases, interactions, balance entries, contact consents, closures and closure requests,
follow-ups and the customer's answers, tickets and their steps, churn scores, risk warnings and
retention actions, the personal-data requests, and the audit entries about the card). Each row
holds every stored column of its model (foreign keys as ids), except the few that are not data
about the customer but a credential (a follow-up's link key) or a search index (the reversed
phone, the ID number's keyed hash). The ID document number is in clear: it is the customer's own.
The result is written as JSON (:func:`write_json`) and as an .xlsx with one sheet per kind
(:func:`write_xlsx`, crm.xlsx's streaming writer); the two hold the same rows.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Model, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from closures.models import Closure, ClosureRequest
from crm import xlsx
from crm.models import AuditEntry
from customers.models import ContactConsent, Customer, Interaction, LedgerEntry, Purchase
from followups.models import Answer, Followup
from insights.models import RetentionAction, RiskWarning, Score
from service.models import Step, Ticket

from .models import DataRequest


@dataclass(frozen=True)
class Section:
    key: str
    label: object
    model: type[Model]
    rows: Callable[[Customer], QuerySet]
    leave_out: tuple[str, ...] = ()


SECTIONS = (
    Section("card", _("Card"), Customer, lambda c: Customer.objects.filter(pk=c.pk), ("phone_rev", "id_number_hash")),
    Section("purchases", _("Purchases"), Purchase, lambda c: Purchase.objects.filter(customer=c)),
    Section("interactions", _("Interactions"), Interaction, lambda c: Interaction.objects.filter(customer=c)),
    Section("ledger", _("Balance entries"), LedgerEntry, lambda c: LedgerEntry.objects.filter(customer=c)),
    Section("consents", _("Contact consent"), ContactConsent, lambda c: ContactConsent.objects.filter(customer=c)),
    Section("closures", _("Closures"), Closure, lambda c: Closure.objects.filter(customer=c)),
    Section(
        "closure_requests", _("Closure requests"), ClosureRequest, lambda c: ClosureRequest.objects.filter(customer=c)
    ),
    Section("followups", _("Follow-ups"), Followup, lambda c: Followup.objects.filter(customer=c), ("key",)),
    Section("answers", _("Survey answers"), Answer, lambda c: Answer.objects.filter(customer=c)),
    Section("tickets", _("Tickets"), Ticket, lambda c: Ticket.objects.filter(customer=c)),
    Section("steps", _("Ticket steps"), Step, lambda c: Step.objects.filter(ticket__customer=c)),
    Section("scores", _("Churn scores"), Score, lambda c: Score.objects.filter(customer=c)),
    Section("risk_warnings", _("Risk warnings"), RiskWarning, lambda c: RiskWarning.objects.filter(customer=c)),
    Section("retention_actions", _("Retention actions"), RetentionAction, lambda c: _of(RetentionAction, c)),
    Section(
        "data_requests", _("Personal-data requests"), DataRequest, lambda c: DataRequest.objects.filter(customer=c)
    ),
    Section("audit", _("Audit entries"), AuditEntry, lambda c: AuditEntry.objects.filter(customer_id=c.pk)),
)


def _of(model: type[Model], customer: Customer) -> QuerySet:
    return model.objects.filter(customer=customer)


def fields_of(section: Section) -> list:
    return [f for f in section.model._meta.concrete_fields if f.name not in section.leave_out]


def collect(customer: Customer) -> dict:
    """``{"customer_no", "generated_at", "sections": {key: [row, ...]}}``; rows ordered by primary key,
    values JSON-safe (dates and times in ISO 8601, local time; amounts as text; files by name)."""
    sections = {}
    for section in SECTIONS:
        names = [f.attname for f in fields_of(section)]
        queryset = section.rows(customer).order_by("pk")
        sections[section.key] = [
            {name: plain(getattr(obj, name)) for name in names} for obj in queryset.iterator(chunk_size=500)
        ]
        if section.key == "card":
            tags = sorted(customer.tags.values_list("name", flat=True))
            for row in sections["card"]:
                row["tags"] = ", ".join(tags)
    return {
        "customer_no": customer.customer_no,
        "generated_at": plain(timezone.now()),
        "sections": sections,
    }


def plain(value):
    """A stored value as JSON carries it."""
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, FieldFile):
        return value.name or ""
    return value


def headers(section: Section) -> list[str]:
    """The sheet's column headers in the reader's language, the machine name after each."""
    labels = [f"{gettext(str(f.verbose_name))} ({f.attname})" for f in fields_of(section)]
    if section.key == "card":
        labels.append(f"{gettext('tags')} (tags)")
    return labels


def write_json(data: dict, out) -> None:
    out.write(json.dumps(data, ensure_ascii=False, indent=2).encode())


def write_xlsx(data: dict, out) -> int:
    """One sheet per kind of record, a header row and the rows as JSON holds them; returns the rows."""
    names = [str(section.label) for section in SECTIONS]
    book = xlsx.Workbook(out, names)
    count = 0
    for section, name in zip(SECTIONS, names, strict=True):
        columns = headers(section)
        sheet = book.add_sheet(name, widths=[18] * len(columns), freeze_header=True)
        sheet.append(columns, style=xlsx.BOLD)
        for row in data["sections"][section.key]:
            sheet.append([cell(value) for value in row.values()])
            count += 1
        sheet.close()
    book.close()
    return count


def cell(value):
    """A value as a sheet cell: structured values (an audit entry's changes) as their JSON text."""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def row_count(data: dict) -> int:
    return sum(len(rows) for rows in data["sections"].values())
