"""The requester is told the outcome by e-mail (when they have an address), after the decision commits."""

import logging

import pytest
from django.urls import reverse
from django.utils import translation

from closures import notify, operations
from closures.models import ClosureRequest
from tests.factories import CustomerFactory

from .asking import ask

pytestmark = pytest.mark.django_db


def decide(client, pending, decision: str, note: str):
    url = reverse("closures:request_decide", kwargs={"pk": pending.pk})
    return client.post(url, {"decision": decision, "note": note})


def test_the_requester_is_mailed_the_rejection_with_the_note(
    staff_user, manager_client, mailoutbox, django_capture_on_commit_callbacks
):
    pending = ask(staff_user, CustomerFactory(customer_no="M000001"))

    with django_capture_on_commit_callbacks(execute=True):
        decide(manager_client, pending, "reject", "客户已续费，请保留")

    [mail] = mailoutbox
    assert mail.to == [staff_user.email]
    assert mail.subject == "Rejected: Close card of card M000001"
    assert "Wang Fang rejected your request (Close card) for card M000001: the card stays active." in mail.body
    assert "客户已续费，请保留" in mail.body
    assert "http://testserver/closures/requests/mine/" in mail.body


def test_the_requester_is_mailed_the_approval(staff_user, manager_user, mailoutbox, django_capture_on_commit_callbacks):
    pending = ask(staff_user, CustomerFactory(customer_no="M000002"))
    with django_capture_on_commit_callbacks(execute=True):
        operations.approve(pending, by=manager_user)
    [mail] = mailoutbox
    assert mail.subject == "Approved: Close card of card M000002"
    assert "Wang Fang approved your request (Close card) for card M000002: it is done." in mail.body


def test_nothing_is_mailed_before_the_commit_nor_for_a_refused_decision(
    staff_user, manager_user, mailoutbox, django_capture_on_commit_callbacks
):
    pending = ask(staff_user)
    with django_capture_on_commit_callbacks() as callbacks:
        operations.approve(pending, by=manager_user)
        assert mailoutbox == []  # waits for the commit
    assert callbacks
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(Exception, match="already decided"):
        operations.reject(pending, by=manager_user, note="迟了")
    assert mailoutbox == []


def test_a_requester_without_an_address_gets_no_mail(
    staff_user, manager_user, mailoutbox, django_capture_on_commit_callbacks
):
    staff_user.email = ""
    staff_user.save()
    with django_capture_on_commit_callbacks(execute=True):
        operations.approve(ask(staff_user), by=manager_user)
    assert mailoutbox == []


def test_a_withdrawal_mails_nobody(staff_user, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        operations.withdraw(ask(staff_user), by=staff_user)
    assert mailoutbox == []


def test_a_failing_mail_server_is_logged_and_the_decision_stands(
    staff_user, manager_user, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def refuse(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(notify, "send_mail", refuse)
    pending = ask(staff_user)
    with caplog.at_level(logging.ERROR, logger="closures.notify"), django_capture_on_commit_callbacks(execute=True):
        operations.approve(pending, by=manager_user)

    pending.refresh_from_db()
    assert pending.state == "approved"
    assert f"Could not mail the outcome of closure request {pending.pk}" in caplog.text


def test_the_mail_is_in_the_language_the_requester_asked_in(
    staff_user, manager_user, mailoutbox, django_capture_on_commit_callbacks
):
    with translation.override("zh-hans"):
        pending = ask(staff_user, CustomerFactory(customer_no="M000003"))
        expected = translation.gettext("Approved: %(action)s of card %(number)s")
    assert ClosureRequest.objects.get(pk=pending.pk).language == "zh-hans"
    with django_capture_on_commit_callbacks(execute=True):
        operations.approve(pending, by=manager_user)
    [mail] = mailoutbox
    assert expected != "Approved: %(action)s of card %(number)s"
    assert "M000003" in mail.subject
    assert mail.subject.startswith(expected.split("%")[0])
