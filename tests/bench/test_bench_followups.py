"""The benchmark's follow-up figures: the queue pages and the sending figure report what they cannot
measure instead of crashing; the sending figure's local SMTP server receives real messages; its
preparation and clean-up leave the data set as it found it."""

import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.test.utils import override_settings

from bench import lib, sending
from bench.management.commands.seed_scale import Command as SeedScale
from bench.measure import Bench
from followups.models import Followup


def bench() -> Bench:
    options = {"runs": 3, "warmup": 0, "only": "", "skip_files": True, "explain": False, "docs": False}
    return Bench(io.StringIO(), options | {"output": "/nonexistent/results.json"})


def test_a_page_whose_url_name_does_not_exist_yet_is_reported_as_not_measured():
    run = bench()
    measure = run.timed("followups_team", "Team view", lambda i: run.get(run.url("followups:no_such_page")))
    assert measure.samples == [] and measure.p95 is None
    assert measure.reason == "no URL named followups:no_such_page yet"
    assert measure.verdict == "n/a"


@pytest.mark.django_db
def test_a_missing_user_is_reported_as_not_measured():
    run = bench()
    measure = run.timed("followups_mine_today", "Mine", lambda i: run.get("/", run.client_of("scale_nobody")))
    assert measure.reason == "no user scale_nobody: reload the data set with seed_scale"


def test_the_sending_figure_says_so_when_there_is_no_command_yet(monkeypatch):
    monkeypatch.setattr(sending, "get_commands", lambda: {})
    run = bench()
    run.sending()
    measure = run.measures[-1]
    assert measure.key == "send_due_followups_10k_s" and measure.value is None
    assert "no send_due_followups command" in measure.reason


def test_dashboard_and_queue_figures_are_also_given_as_multiples_of_the_reference_page():
    run = bench()
    p95s = {"reference_page": 5.0, "dashboard_12m": 50.0, "followups_team": 80.0, "dashboard_city": 70.0, "card": 9.0}
    for key, p95 in p95s.items():
        run.measures.append(lib.Measure(key, key, None, samples=[p95] * 20))
    run.against_reference()
    assert run.extra == {"dashboard_12m_x_reference": 10.0, "followups_team_x_reference": 16.0,
                         "dashboard_city_x_reference": 14.0}  # fmt: skip
    notes = {m.key: m.note for m in run.measures}
    assert notes["dashboard_12m"] == "10× the reference page (within 12×)"
    assert notes["dashboard_city"] == "14× the reference page (OVER 12×)"
    assert notes["card"] == ""


def test_the_local_smtp_server_receives_what_django_sends():
    with sending.smtp_server() as (port, mailbox):
        backend = "django.core.mail.backends.smtp.EmailBackend"
        with override_settings(EMAIL_BACKEND=backend, EMAIL_HOST="127.0.0.1", EMAIL_PORT=port, EMAIL_USE_TLS=False):
            sent = mail.get_connection().send_messages(
                [mail.EmailMessage(f"Notice {n}", "您的会员卡已注销。", "crm@example.com", [f"c{n}@example.com"])
                 for n in range(3)]
            )  # fmt: skip
    assert sent == 3
    assert (mailbox.messages, mailbox.recipients) == (3, 3)


@pytest.mark.postgres
@pytest.mark.django_db
def test_preparing_the_sending_figure_and_cleaning_up_leaves_the_data_set_as_it_was():
    call_command(SeedScale(), customers=3000, closures=1500, nice=0, stdout=io.StringIO())
    already_due = Followup.objects.filter(kind="survey", state="pending").order_by("pk").first()
    Followup.objects.filter(pk=already_due.pk).update(due_at=already_due.closure.performed_at)
    before = dict(Followup.objects.values_list("pk", "due_at"))

    aside = sending.set_aside()
    assert already_due.pk in aside
    prepared = sending.prepare(200)
    assert 0 < prepared <= 200
    mine = Followup.objects.filter(note=sending.MARK)
    assert mine.count() == prepared
    # Only the benchmark's notices are due now, each on an open card closure of a customer who may be e-mailed.
    due = Followup.objects.filter(state="pending", due_at__lte=mine.first().due_at).exclude(kind="callback")
    assert set(due) == set(mine)
    for row in mine.select_related("customer", "closure"):
        assert (row.kind, row.channel, row.closure.action) == ("notice", "email", "close")
        assert row.closure.reverted_at is None
        assert row.customer.status == "closed" and row.customer.email
        consent = row.customer.consents.get(channel="email")
        assert consent.marketing and not consent.do_not_contact

    sending.clean_up(aside)
    assert dict(Followup.objects.values_list("pk", "due_at")) == before
