"""crm.exports: the one export pipeline (request or job, the job's runner, the audit entry), which
the closure and the customer exports both use, and which knows none of the apps."""

import ast
import csv
import io
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from django.utils.translation import gettext

import crm
from crm import exports, jobs, spreadsheets
from crm.models import AuditEntry, Job

pytestmark = pytest.mark.django_db
APPS = {"customers", "closures", "analytics", "bench"}


class PeopleExport(exports.Export):
    """A minimal export for these tests: the usernames starting with a prefix."""

    name = "people"
    audit_action = "people.export"
    job_kinds = {"csv": "people_csv"}
    max_rows_setting = "PEOPLE_EXPORT_DIRECT_MAX_ROWS"

    def __init__(self, prefix: str):
        self.prefix = prefix

    def rows(self):
        return get_user_model().objects.filter(username__startswith=self.prefix).order_by("username")

    def write(self, fmt, out, *, progress=None):
        names = ([name] for name in self.rows().values_list("username", flat=True))
        return spreadsheets.write_csv(out, ["username"], names, progress=progress)

    def params(self):
        return {"prefix": self.prefix}

    @classmethod
    def from_params(cls, params, user):
        return cls(params["prefix"])

    def audit_selection(self):
        return {"prefix": self.prefix}

    def done_message(self, rows):
        return f"{rows} {gettext('Customers')}"  # a string the catalogue translates: 客户


@pytest.fixture
def people(django_user_model):
    for name in ("pp-li", "pp-wang", "other"):
        django_user_model.objects.create_user(name)


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setitem(jobs._KINDS, "people_csv", jobs.JobKind(PeopleExport.run_job, "customers.export_customers"))


def read(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_crm_imports_none_of_the_apps():
    for path in Path(crm.__file__).parent.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            assert not {name.split(".")[0] for name in names} & APPS, path


def test_both_exports_are_the_pipeline_and_their_job_kinds_run_its_runner():
    from analytics.exports import ClosureExport
    from customers.exports import CustomerExport

    pairs = [(ClosureExport, ("closures_xlsx", "closures_csv")), (CustomerExport, ("customers_xlsx", "customers_csv"))]
    for export, kinds in pairs:
        assert issubclass(export, exports.Export)
        assert set(export.job_kinds.values()) == set(kinds)
        assert {jobs._KINDS[kind].runner for kind in kinds} == {export.run_job}


def test_a_small_export_is_sent_as_a_file_and_audited_once(people, rf, admin_user):
    request = rf.get("/")
    request.user = admin_user

    response = PeopleExport("pp-").respond(request, "csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'attachment; filename="people-' in response["Content-Disposition"]
    assert read(b"".join(response.streaming_content)) == [["username"], ["pp-li"], ["pp-wang"]]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.object_type) == ("people.export", admin_user, "people")
    assert entry.changes == {"format": [None, "csv"], "rows": [None, 2], "prefix": [None, "pp-"]}


def test_an_export_too_large_for_the_request_runs_as_a_job_only_when_its_kind_is_registered(people, monkeypatch):
    monkeypatch.setattr(settings, "PEOPLE_EXPORT_DIRECT_MAX_ROWS", 2, raising=False)
    assert not PeopleExport("pp-").runs_as_job("csv")  # fits: two rows
    assert not PeopleExport("").runs_as_job("csv")  # too large, but no runner
    monkeypatch.setitem(jobs._KINDS, "people_csv", jobs.JobKind(PeopleExport.run_job, "customers.export_customers"))
    assert PeopleExport("").runs_as_job("csv")
    assert not PeopleExport("pp-").runs_as_job("csv")


def test_the_job_selects_again_in_the_requesters_language_attaches_the_file_and_audits_it(
    people, registered, admin_user, django_capture_on_commit_callbacks
):
    with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
        job = PeopleExport("pp-").start_job(admin_user, "csv")

    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    assert job.params == {"prefix": "pp-", "language": "zh-hans", "machine_names": False}
    assert job.result == {"rows": 2, "summary": "2 客户"}
    assert job.file.name.startswith("exports/") and Path(job.file.name).name.startswith("people-")
    assert read(job.file.read()) == [["username"], ["pp-li"], ["pp-wang"]]
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.object_type, entry.object_id) == (admin_user, "job", str(job.pk))
    assert entry.changes["rows"] == [None, 2]
