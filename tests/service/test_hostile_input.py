"""Hostile input on the service pages: markup and spreadsheet formulas in a ticket's text are shown
as text; attachments of the wrong type, too big, or HTML dressed as an image are refused on the
page with nothing written; downloads never render inline."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from service import operations
from service.models import Step

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://evil.example","点我")'


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def ticket(desk, complaint):
    return operations.open_ticket(
        desk["card"],
        by=desk["agent"],
        subject=f"{SCRIPT} <b>bold</b>",
        need=FORMULA,
        category=complaint,
        channel="phone",
        priority="normal",
        assignee=desk["agent"],
    )


def test_markup_and_formulas_in_a_ticket_are_shown_escaped_on_its_page_the_queue_and_the_card(desk, ticket):
    operations.add_step(ticket, by=desk["agent"], kind="work", content=f"{SCRIPT}{FORMULA}", result="<b>done</b>")
    client = client_for(desk["agent"])
    pages = [
        client.get(reverse("service:ticket", args=[ticket.pk])).content.decode(),
        client.get(reverse("service:queue")).content.decode(),
        client.get(reverse("customers:card", args=[desk["card"].pk])).content.decode(),
    ]
    for html in pages:
        assert SCRIPT not in html and "<b>bold</b>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    ticket_page = pages[0]
    assert "<b>done</b>" not in ticket_page and "&lt;b&gt;done&lt;/b&gt;" in ticket_page
    assert "=HYPERLINK(&quot;http://evil.example&quot;,&quot;点我&quot;)" in ticket_page


def _attach(client, ticket, upload):
    data = {"step-kind": "work", "step-content": "照片", "step-attachment": upload}
    return client.post(reverse("service:step", args=[ticket.pk]), data)


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("invoice.exe", b"MZ\x90\x00binary"), "this file is neither"),
        (SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>"), "this file is neither"),
        (SimpleUploadedFile("huge.png", PNG + b"\x00" * (1024 * 1024 + 10)), "attachments may be at most 1 MB"),
    ],
    ids=["wrong type", "html named png", "too big"],
)
def test_a_bad_attachment_is_refused_next_to_the_field_and_nothing_is_written(desk, ticket, upload, message, settings):
    settings.SERVICE_ATTACHMENT_MAX_MB = 1
    steps_before = Step.objects.count()
    response = _attach(client_for(desk["agent"]), ticket, upload)
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_step-attachment_error"' in html and message in html
    assert Step.objects.count() == steps_before


def test_an_image_is_stored_with_its_sniffed_type_and_downloaded_as_an_attachment_only(desk, ticket):
    client = client_for(desk["agent"])
    assert (
        _attach(client, ticket, SimpleUploadedFile("receipt.pdf", PNG, content_type="application/pdf")).status_code
        == 302
    )
    step = Step.objects.get(ticket=ticket, kind="work")
    assert step.attachment_type == "image/png" and step.attachment_name == "receipt.pdf"
    assert (
        reverse("service:attachment", args=[step.pk])
        in client.get(reverse("service:ticket", args=[ticket.pk])).content.decode()
    )
    response = client.get(reverse("service:attachment", args=[step.pk]))
    assert response.status_code == 200 and b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_step_without_an_attachment_has_no_download(desk, ticket):
    step = operations.add_step(ticket, by=desk["agent"], kind="note", content="无附件")
    assert client_for(desk["agent"]).get(reverse("service:attachment", args=[step.pk])).status_code == 404


def test_someone_without_the_ticket_permission_cannot_download(desk, ticket, outsider_user):
    step = operations.add_step(
        ticket, by=desk["agent"], kind="work", content="照片", attachment=SimpleUploadedFile("a.png", PNG)
    )
    assert client_for(outsider_user).get(reverse("service:attachment", args=[step.pk])).status_code == 403
