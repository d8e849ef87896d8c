"""The CDNOW purchase history, loaded through the product's own import paths, for the backtest.

CDNOW was an online CD store; its history is the standard public data set of customer-base
analysis (Fader, Hardie and Lee 2005): the 23,570 customers who first bought in the first quarter
of 1997, and every purchase they made until the end of June 1998 (78 weeks; 69,659 rows). The
``lifetimes`` package (requirements-dev.lock) ships it as ``datasets/CDNOW_master.txt`` (customer,
YYYYMMDD, number of CDs, dollars) and a 1-in-10 sample of the customers as ``CDNOW_sample.txt``
(2,357 customers, 6,919 rows: master customer id, sample id, date, CDs, dollars). The files are
read from the installed package's folder without importing it (its ``__init__`` no longer imports
with current pandas and setuptools).

    load(sample=False) -> LoadReport

writes the cards through the customer import (customers.imports.operation.run_import: the same
checks, batches and audit as an uploaded customer file) and the purchases through the purchase
import (customers.imports.purchases.import_purchases), never straight into the models. The dates
stay as they were (1997-1998): the backtest takes its cut-off in that range. Cards are numbered
``CDNOW-<master id>`` (the sample's customers keep their master numbers), named "CDNOW <id>", with
"customer since" their first purchase day; a purchase's product is "CD" and its quantity the CDs.
"""

from __future__ import annotations

import importlib.util
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from customers.imports.operation import run_import
from customers.imports.purchases import import_purchases
from customers.models import Customer

PREFIX = "CDNOW-"
MASTER, SAMPLE = "CDNOW_master.txt", "CDNOW_sample.txt"
CALIBRATION_END = date(1997, 9, 30)  # the papers' 39 calibration weeks end here; 39 holdout weeks follow
HOLDOUT_DAYS = 273


def data_file(name: str) -> Path:
    spec = importlib.util.find_spec("lifetimes")  # finds the package without running its __init__
    if spec is None or not spec.submodule_search_locations:
        raise LookupError("the lifetimes package (requirements-dev.lock) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / name


def transactions(sample: bool = False) -> list[tuple[str, date, int, str]]:
    """(customer id, day, CDs, dollars as written) for every row of the master file or the sample."""
    rows = []
    with data_file(SAMPLE if sample else MASTER).open() as f:
        for text in f:
            cells = text.split()
            if not cells or not cells[0].isdigit():
                continue  # the master file's header line
            if sample:
                cells = [cells[0], *cells[2:]]
            customer, day, cds, dollars = cells
            rows.append((customer, date(int(day[:4]), int(day[4:6]), int(day[6:])), int(cds), dollars))
    return rows


@dataclass
class LoadReport:
    customers: int
    purchases: int
    loaded: bool  # False: the same customers were there already, nothing written


def cards():
    """The CDNOW cards (the backtest's population when the database holds other cards too)."""
    return Customer.objects.filter(customer_no__startswith=PREFIX)


def load(sample: bool = False) -> LoadReport:
    """Write the CDNOW customers and their purchases through the imports (once: a database holding
    the same customers already is left as it is; one holding others of them is refused)."""
    rows = transactions(sample)
    first: dict[str, date] = {}
    for customer, day, _cds, _dollars in rows:
        first[customer] = min(day, first.get(customer, day))
    existing = cards().count()
    if existing == len(first):
        return LoadReport(len(first), len(rows), loaded=False)
    if existing:
        raise ValueError(
            f"The database holds {existing:,} CDNOW cards, not the {len(first):,} of this file: use a fresh database."
        )
    card_rows = [(1, ["customer_no", "name", "customer_since"])] + [
        (line, [f"{PREFIX}{customer}", f"CDNOW {customer}", day.isoformat()])
        for line, (customer, day) in enumerate(sorted(first.items()), start=2)
    ]
    made = run_import(lambda: iter(card_rows), "CDNOW customers", user=None, commit=True)
    if not made.written:
        raise ValueError(f"The CDNOW customers were refused: {made.file_errors or made.shown_problems[:5]}")
    purchase_rows = [(1, ["customer_no", "purchased_on", "amount", "product", "quantity"])] + [
        (line, [f"{PREFIX}{customer}", day.isoformat(), dollars, "CD", cds])
        for line, (customer, day, cds, dollars) in enumerate(rows, start=2)
    ]
    bought = import_purchases(purchase_rows, by=None, file_name=SAMPLE if sample else MASTER)
    if not bought.written:
        raise ValueError(f"The CDNOW purchases were refused: {bought.file_errors or bought.shown_problems[:5]}")
    return LoadReport(len(first), bought.purchases, loaded=True)


def per_customer(sample: bool = False) -> dict[str, int]:
    """Purchases per customer in the file (what the cards' purchase counts must say once loaded)."""
    counts: dict[str, int] = defaultdict(int)
    for customer, _day, _cds, _dollars in transactions(sample):
        counts[f"{PREFIX}{customer}"] += 1
    return dict(counts)
