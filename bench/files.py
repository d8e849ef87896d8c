"""The benchmark's exports and import, each run in a child process (``bench --child ...``) so that
its peak memory is its own."""

import json
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.urls import reverse

from customers.models import Customer

from . import lib
from .database import child_env
from .lib import Unavailable, admin_user, client_for, stub
from .scale import vocab

DATA_DIR = Path(settings.BASE_DIR) / "bench" / "data"
IMPORT_ROWS = 100_000
IMPORT_PREFIX = "IMP"


def child(what: str) -> dict:
    """Run ``bench --child WHAT`` in a new process (its own peak memory) and read its JSON line."""
    env = child_env(CELERY_BROKER_URL="")  # jobs run in-process, inside the measured process
    command = [sys.executable, "manage.py", "bench", "--child", what]
    done = subprocess.run(command, cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    for line in reversed(done.stdout.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"reason": f"child process failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}"}


def run_child(what: str) -> dict:
    try:
        if what.startswith("export-"):
            return child_export(what.split("-", 1)[1])
        if what.startswith("score-"):
            from .insights import child_score

            return child_score(what)
        return child_import()
    except Unavailable as exc:
        return {"reason": str(exc)}


def child_export(fmt: str) -> dict:
    """POST the export of all closures (reverted included) as an Admin would, then read what it made."""
    from crm.models import Job

    user = admin_user()
    client = client_for(user)
    started = datetime.now(UTC) - timedelta(seconds=1)
    url = reverse("analytics:export") + "?period=all&reverted=on"
    began = time.perf_counter()
    response = client.post(url, {"format": fmt}, secure=True)
    size = 0
    if response.status_code == 200 and response.streaming:
        for chunk in response.streaming_content:
            size += len(chunk)
    seconds = time.perf_counter() - began
    rss = lib.peak_rss_mb()
    if response.status_code not in (200, 302):
        raise Unavailable(f"HTTP {response.status_code}{stub(response)}")
    job = Job.objects.filter(created_by=user, created_at__gte=started).order_by("-created_at").first()
    rows = None
    note = "answered in the request"
    if job is not None:
        if job.state != Job.State.DONE:
            raise Unavailable(f"the export job ended {job.state}: {job.error}")
        rows = (job.result or {}).get("rows")
        note = "ran as a job (in-process, no broker)"
        if job.file:
            size = job.file.size
            counted = count_rows(job.file.path, fmt)
            if counted is not None and rows is None:
                rows = counted
            job.file.delete(save=False)
        job.delete()
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": cpu_seconds(),
        "rows": rows,
        "rows_per_s": round(rows / seconds) if rows else None,
        "peak_rss_mb": rss,
        "bytes": size,
        "note": note,
    }


def cpu_seconds() -> float:
    """CPU time of this (child) process so far: the app's share, PostgreSQL's is not in it."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return round(usage.ru_utime + usage.ru_stime, 1)


def count_rows(path: str, fmt: str) -> int | None:
    """Data rows in the written file, read as a stream (the header row is not counted)."""
    import zipfile

    if fmt == "csv":
        with open(path, "rb") as handle:
            return max(0, sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b"")) - 1)
    with zipfile.ZipFile(path) as package:
        sheets = sorted(n for n in package.namelist() if n.startswith("xl/worksheets/sheet"))
        if not sheets:
            return None
        with package.open(sheets[-1]) as sheet:
            return max(0, sum(chunk.count(b"<row") for chunk in iter(lambda: sheet.read(1 << 20), b"")) - 1)


def child_import() -> dict:
    """The import operation on 100,000 new customers: the preview (dry run), then the confirmed write."""
    try:
        from customers.imports import import_customers
    except ImportError:
        raise Unavailable("customers/imports.py has no import_customers yet") from None
    path = DATA_DIR / "import_100k.xlsx"
    user = admin_user()
    remove_imported()
    began = time.perf_counter()
    with open(path, "rb") as handle:
        preview = import_customers(handle, path.name, user=user, commit=False)
    preview_seconds = time.perf_counter() - began
    if not preview.ok:
        problems = preview.file_errors or [str(problem) for problem in preview.problems[:3]]
        raise Unavailable(f"the preview refused the file ({preview.problem_count} problems): {problems}")
    began = time.perf_counter()
    with open(path, "rb") as handle:
        report = import_customers(handle, path.name, user=user, commit=True)
    seconds = time.perf_counter() - began
    rss = lib.peak_rss_mb()
    written = Customer.objects.filter(customer_no__startswith=IMPORT_PREFIX).count()
    remove_imported()
    if not report.written or written != IMPORT_ROWS:
        raise Unavailable(f"the import wrote {written:,} of {IMPORT_ROWS:,} customers: {report.file_errors}")
    return {
        "seconds": round(seconds, 2),
        "cpu_seconds": cpu_seconds(),
        "preview_seconds": round(preview_seconds, 2),
        "peak_rss_mb": rss,
        "note": f"{report.created:,} created, committed, then removed again",
    }


def remove_imported() -> None:
    """Take the benchmark's imported customers out again (raw SQL: their grams, tags and balance entries go first),
    then vacuum the tables: 100,000 dead rows left to autovacuum (which waits for 20 % of the
    table) made the next run's last-four-digits search 15 times slower, stepping over them in
    the phone index."""
    ids = f"SELECT id FROM customers_customer WHERE customer_no LIKE '{IMPORT_PREFIX}%%'"
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM customers_namegram WHERE customer_id IN ({ids})")
        cursor.execute(f"DELETE FROM customers_customer_tags WHERE customer_id IN ({ids})")
        cursor.execute(f"DELETE FROM customers_ledgerentry WHERE customer_id IN ({ids})")  # their opening balances
        cursor.execute(f"DELETE FROM customers_customer WHERE customer_no LIKE '{IMPORT_PREFIX}%%'")
        for table in ("customers_customer", "customers_customer_tags", "customers_namegram", "customers_ledgerentry"):
            cursor.execute(f"VACUUM (ANALYZE) {table}")


def write_import_file(path: Path) -> None:
    """A realistic .xlsx as a Chinese office would send it: Chinese headers, mixed cells, 100,000 rows."""
    from openpyxl import Workbook

    rng = random.Random(7)
    headers = ["客户编号", "姓名", "性别", "出生日期", "手机号", "邮箱", "城市", "地址", "客户分类", "生命周期阶段",
               "负责人", "标签", "储值余额", "积分"]  # fmt: skip
    owners = [f"scale_staff{i:02d}" for i in range(1, 13)]
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("客户")
    sheet.append(headers)
    for n in range(1, IMPORT_ROWS + 1):
        surname = rng.choices(vocab.SURNAMES, cum_weights=vocab.SURNAME_CUM)[0]
        given = "".join(rng.choices(vocab.GIVEN_POOL, cum_weights=vocab.GIVEN_CUM, k=rng.choice((1, 2, 2))))
        city = rng.choices(vocab.CITIES, cum_weights=vocab.CITY_CUM)[0]
        sheet.append(
            [
                f"{IMPORT_PREFIX}{n:07d}",
                surname + given,
                rng.choice(["男", "女", ""]),
                date(1950, 1, 1) + timedelta(days=rng.randrange(0, 20_000)) if rng.random() < 0.6 else None,
                f"147{n * 7919 % 10**8:08d}",  # unique, and 147 is a prefix seed_scale never uses
                f"imp{n}@{rng.choice(vocab.EMAIL_DOMAINS)}" if rng.random() < 0.6 else None,
                city,
                f"{city}{rng.choice(vocab.DISTRICTS)}{rng.choice(vocab.ROADS)}{rng.randrange(1, 999)}号",
                rng.choice(["潜在客户", "普通客户", "重点客户"]),
                rng.choice(["潜在", "首次购买", "复购", "忠诚"]),
                rng.choice(owners),
                rng.choice(["", "", "VIP", "VIP, 老客户推荐"]),
                round(rng.random() * 2000, 2) if rng.random() < 0.3 else 0,
                rng.randrange(0, 5000),
            ]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
