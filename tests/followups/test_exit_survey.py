"""The exit survey's public page: a customer opens the link from their message, answers once, in
their language; a garbled, expired, used or no-longer-needed link gets a plain page, never an error;
the answer attaches to the closure and shows on the card's timeline, escaped, in the reader's language."""

import time
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from closures import erasure, operations
from closures.models import ClosureReason
from closures.rules import ClosureChoice
from customers import consent
from followups import links
from followups.models import Answer, Followup, Kind
from followups.survey import RATE_LIMIT, RATE_LIMIT_PER_IP
from tests.factories import ClosureReasonFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def reason(code):
    return ClosureReason.objects.get(code=code)


def sent_survey(by, *, language="", name="Anna Smith", customer_language="en", **card):
    """A card closed for a too-high price, and the exit survey sent to it by e-mail."""
    customer = CustomerFactory(name=name, language=customer_language, **card)
    closure = operations.close_customer(customer, ClosureChoice("close", reason("price")), by=by)
    return Followup.objects.create(
        kind=Kind.SURVEY,
        channel="email",
        customer=customer,
        closure=closure,
        language=language,
        due_at=timezone.now(),
        state=Followup.State.SENT,
        sent_at=timezone.now(),
    )


def url(followup, query=""):
    path = reverse("followups:survey", kwargs={"token": links.survey_token(followup)})
    return f"{path}?{query}" if query else path


@pytest.fixture
def survey(staff_user):
    return sent_survey(staff_user)


def test_the_link_opens_the_survey_in_the_customers_language_greeting_by_first_name(survey):
    page = Client().get(url(survey))
    html = page.content.decode()
    assert page.status_code == 200 and page["Content-Language"] == "en"
    assert '<html lang="en">' in html
    assert "Dear Anna, we are sorry to see you go" in html and "Smith" not in html
    assert "The price was too high for me" in html and "Price too high" not in html  # the customer's words
    assert "Something else" in html and "Customer deceased" not in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert survey.customer.email not in html and survey.customer.customer_no not in html
    assert 'href="?lang=zh-hans"' in html  # the switch to the other language


def test_a_chinese_customer_reads_it_in_chinese_and_may_switch_to_english(staff_user):
    followup = sent_survey(staff_user, name="张伟", customer_language="zh-hans")
    html = Client().get(url(followup)).content.decode()
    assert '<html lang="zh-hans">' in html and "张伟" in html
    assert "价格对我来说太高了" in html and "每个问题都可以不答" in html
    english = Client().get(url(followup, "lang=en")).content.decode()
    assert "The price was too high for me" in english and 'action="?lang=en"' in english


def test_the_follow_ups_language_comes_before_the_cards(staff_user):
    followup = sent_survey(staff_user, language="zh-hans", customer_language="en")
    assert "价格对我来说太高了" in Client().get(url(followup)).content.decode()


def test_admins_reasons_read_as_their_own_label_and_void_only_reasons_are_not_offered(survey):
    ClosureReasonFactory(code="parking", label_en="No parking near the shop", label_zh="店附近没有停车位")
    html = Client().get(url(survey)).content.decode()
    assert "No parking near the shop" in html and "Duplicate record" not in html


def test_an_answer_attaches_to_the_closure_updates_consent_and_thanks_the_customer(survey):
    page = Client().post(
        url(survey),
        {
            "reason": reason("price").pk,
            "csat": "2",
            "nps": "3",
            "come_back": "A lower annual fee",
            "contact_again": "yes",
        },
        follow=True,
    )
    assert page.status_code == 200 and "Thank you, Anna!" in page.content.decode()
    answer = Answer.objects.get(followup=survey)
    assert (answer.closure, answer.customer, answer.source) == (survey.closure, survey.customer, "survey")
    assert (answer.reason.code, answer.csat, answer.nps, answer.come_back) == ("price", 2, 3, "A lower annual fee")
    assert answer.contact_again is True and answer.recorded_by is None
    survey.refresh_from_db()
    assert survey.answered_at is not None and survey.state == Followup.State.DONE
    assert consent.allows(survey.customer, "email", consent.MARKETING)


def test_no_thank_you_means_no_marketing_consent(survey):
    Client().post(url(survey), {"contact_again": "no"})
    assert Answer.objects.get(followup=survey).contact_again is False
    assert not consent.allows(survey.customer, "email", consent.MARKETING)


def test_the_link_is_single_use(survey):
    client = Client()
    client.post(url(survey), {"csat": "4"})
    again = client.post(url(survey), {"csat": "1"})
    assert "This survey has already been answered" in again.content.decode()
    assert Answer.objects.get(followup=survey).csat == 4
    assert "already been answered" in client.get(url(survey)).content.decode()


def test_an_empty_answer_is_refused_saying_so(survey):
    page = Client().post(url(survey), {})
    assert page.status_code == 200 and "Please answer at least one question." in page.content.decode()
    assert not Answer.objects.exists()


def test_something_else_needs_a_few_words(survey):
    page = Client().post(url(survey), {"reason": "other", "other_reason": "  "})
    html = page.content.decode()
    assert "Please check the answers marked below." in html  # at the top, where a phone's reader is
    assert '<p class="error" id="other-reason-error">Please tell us in a few words' in html  # at the field
    assert not Answer.objects.exists()
    Client().post(url(survey), {"reason": "other", "other_reason": "The shop closed early"})
    answer = Answer.objects.get()
    assert (answer.reason.code, answer.other_reason) == ("other", "The shop closed early")


def test_out_of_range_scores_are_refused_next_to_the_question(survey):
    page = Client().post(url(survey), {"csat": "6", "nps": "11"})
    html = page.content.decode()
    assert html.count("Select a valid choice") == 2
    assert not Answer.objects.exists()


def test_chinese_errors_stay_in_chinese_through_the_post(staff_user):
    followup = sent_survey(staff_user, customer_language="zh-hans")
    page = Client().post(url(followup, "lang=zh-hans"), {})
    assert "请至少回答一个问题。" in page.content.decode()


def test_a_post_without_the_csrf_token_is_refused(survey):
    page = Client(enforce_csrf_checks=True).post(url(survey), {"csat": "3"})
    assert page.status_code == 403 and not Answer.objects.exists()


def test_a_garbled_link_gets_a_plain_404_page():
    page = Client().get(reverse("followups:survey", kwargs={"token": "not-a-real-link"}))
    assert page.status_code == 404 and "This link does not work" in page.content.decode()


def test_a_tampered_link_is_not_ours(survey):
    token = links.survey_token(survey)
    page = Client().get(reverse("followups:survey", kwargs={"token": token[:-2] + "xx"}))
    assert page.status_code == 404


def test_an_expired_link_says_so_in_the_customers_language(staff_user, settings):
    followup = sent_survey(staff_user, customer_language="zh-hans")
    settings.FOLLOWUP_SURVEY_DAYS = 30
    sent = time.time() - timedelta(days=31).total_seconds()
    with pytest.MonkeyPatch.context() as patch:  # the link was signed 31 days ago
        patch.setattr("django.core.signing.time.time", lambda: sent)
        token = links.survey_token(followup)
    page = Client().get(reverse("followups:survey", kwargs={"token": token}))
    posted = Client().post(reverse("followups:survey", kwargs={"token": token}), {"csat": "5"})
    assert page.status_code == 410 and "此链接已过期" in page.content.decode()
    assert posted.status_code == 410 and not Answer.objects.exists()


def test_an_erased_card_no_longer_needs_its_survey(survey, admin_user):
    card = survey.customer
    erasure.erase_customer(
        card, ClosureChoice("erase", reason("erasure-request")), by=admin_user, confirmation=card.customer_no
    )
    page = Client().get(url(survey))
    assert page.status_code == 410 and "This survey is no longer needed" in page.content.decode()
    assert "Anna" not in page.content.decode()


def test_a_reinstated_card_no_longer_needs_its_survey(survey, manager_user):
    operations.reinstate(survey.customer, by=manager_user, note="Came back in the shop")
    posted = Client().post(url(survey), {"csat": "5"})
    assert posted.status_code == 410 and "This survey is no longer needed" in posted.content.decode()
    assert not Answer.objects.exists()


def test_posts_are_rate_limited_per_link(survey):
    client = Client()
    for _ in range(RATE_LIMIT):
        assert client.post(url(survey), {}).status_code == 200  # refused as empty, but counted
    page = client.post(url(survey), {"csat": "5"})
    assert page.status_code == 429 and "Too many attempts" in page.content.decode()
    assert not Answer.objects.exists()


def test_posts_are_rate_limited_per_address_across_links(staff_user):
    client = Client(REMOTE_ADDR="203.0.113.9")
    for n in range(RATE_LIMIT_PER_IP):
        client.post(reverse("followups:survey", kwargs={"token": f"garbage-{n}"}), {})
    other = sent_survey(staff_user)
    assert client.post(url(other), {"csat": "5"}).status_code == 429
    assert Client(REMOTE_ADDR="198.51.100.7").post(url(other), {"csat": "5"}, follow=True).status_code == 200


HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def test_hostile_text_is_stored_as_typed_and_shown_escaped_on_the_card(survey, staff_client):
    Client().post(url(survey), {"reason": "other", "other_reason": HOSTILE, "come_back": HOSTILE, "csat": "2"})
    answer = Answer.objects.get()
    assert answer.other_reason == HOSTILE and answer.come_back == HOSTILE
    card = staff_client.get(reverse("customers:card", args=[survey.customer.pk])).content.decode()
    assert "<script>alert" not in card and "<img src=x" not in card
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in card


def test_the_answer_shows_on_the_card_timeline_in_the_readers_language(survey, staff_client, staff_user):
    Client().post(url(survey), {"reason": reason("price").pk, "csat": "2", "nps": "3", "contact_again": "no"})
    card = reverse("customers:card", args=[survey.customer.pk])
    english = staff_client.get(card).content.decode()
    assert "The customer&#x27;s answer" in english
    assert "Answered the exit survey: satisfaction 2/5, would recommend 3/10, does not want to be contacted again" in (
        english
    )
    assert "Reason: Price too high" in english  # the customer's reason, as staff call it
    staff_client.post(reverse("set_language"), {"language": "zh-hans"})
    chinese = staff_client.get(card).content.decode()
    assert "回答了离开调查" in chinese and "满意度 2/5" in chinese and "价格过高" in chinese
