"""The default follow-up policy and its messages.

After "Close card", whatever the reason: the closure notice by e-mail at once and the exit survey
by e-mail a day later; key accounts also get a callback (by phone, the card's owner) within 3
working days; price and competitor reasons also a win-back offer by e-mail after 30 days. Void and
archive send nothing (a voided record is a data error, not a customer leaving). The messages exist
for e-mail and SMS, in English and Chinese; every one carries {unsubscribe_link}.

Idempotent (rules matched on all their fields, templates on kind, channel and language: a template
an Admin already wrote is left alone). The reverse removes exactly these defaults.
"""

from django.db import migrations

# action, category, segment, kind, channel, delay_days, working_days, position
DEFAULT_RULES = [
    ("close", "", "", "notice", "email", 0, False, 10),
    ("close", "", "", "survey", "email", 1, False, 20),
    ("close", "", "key", "callback", "phone", 3, True, 30),
    ("close", "price", "", "winback", "email", 30, False, 40),
    ("close", "competitor", "", "winback", "email", 30, False, 50),
]

NOTICE_EN = """Dear {name},

Your card {customer_no} with {company} has been closed.

Your balance: {settlement}.

You are welcome back at any time: reply to this e-mail or visit any of our stores and we will \
gladly open your card again.

Thank you for having been our customer.
{company}

To stop service messages by e-mail: {unsubscribe_link}"""

NOTICE_ZH = """{name}，您好：

您在{company}的会员卡 {customer_no} 已注销。

卡内余额处理：{settlement}。

我们随时欢迎您回来：直接回复此邮件，或到任一门店，即可为您重新开通会员卡。

感谢您一直以来的支持！
{company}

如不希望再收到服务类邮件，请点击：{unsubscribe_link}"""

SURVEY_EN = """Dear {name},

We are sorry to see you go. Would you tell us why you closed your card {customer_no}? \
The survey takes about two minutes:

{survey_link}

Every answer is read, and it helps us do better.

{company}

To stop surveys and offers by e-mail: {unsubscribe_link}"""

SURVEY_ZH = """{name}，您好：

很遗憾您注销了会员卡 {customer_no}。能否花两分钟告诉我们原因？

{survey_link}

我们会认真阅读每一份反馈，用来改进我们的服务。

{company}

如不希望再收到问卷和优惠信息，请点击：{unsubscribe_link}"""

WINBACK_EN = """Dear {name},

It has been a month since you closed your card {customer_no}, and we have been working on \
what our customers told us, prices included.

We would love to welcome you back: reply to this e-mail or visit any of our stores, and we will \
open your card again with a welcome-back offer.

{company}

To stop surveys and offers by e-mail: {unsubscribe_link}"""

WINBACK_ZH = """{name}，您好：

您注销会员卡 {customer_no} 已有一个月。这段时间里，我们根据客户的意见做了不少改进，包括价格。

诚挚邀请您回来：直接回复此邮件，或到任一门店，我们将为您重新开通会员卡，并送上回归优惠。

{company}

如不希望再收到问卷和优惠信息，请点击：{unsubscribe_link}"""

# kind, channel, language, subject, body
DEFAULT_TEMPLATES = [
    ("notice", "email", "en", "Your card {customer_no} has been closed", NOTICE_EN),
    ("notice", "email", "zh-hans", "您的会员卡 {customer_no} 已注销", NOTICE_ZH),
    ("survey", "email", "en", "{name}, would you tell us why you left?", SURVEY_EN),
    ("survey", "email", "zh-hans", "{name}，能告诉我们您离开的原因吗？", SURVEY_ZH),
    ("winback", "email", "en", "We would love to see you again, {name}", WINBACK_EN),
    ("winback", "email", "zh-hans", "{name}，期待与您再次相见", WINBACK_ZH),
    (
        "notice",
        "sms",
        "en",
        "",
        "{company}: your card {customer_no} is closed. Balance: {settlement}. Welcome back at any store. "
        "Stop: {unsubscribe_link}",
    ),
    (
        "notice",
        "sms",
        "zh-hans",
        "",
        "您的会员卡{customer_no}已注销，余额处理：{settlement}。欢迎随时到门店重新开通。退订：{unsubscribe_link}",
    ),
    (
        "survey",
        "sms",
        "en",
        "",
        "{company}: sorry to see you go. Tell us why in 2 minutes: {survey_link} Stop: {unsubscribe_link}",
    ),
    (
        "survey",
        "sms",
        "zh-hans",
        "",
        "很遗憾您注销了会员卡，能花两分钟告诉我们原因吗？{survey_link} 退订：{unsubscribe_link}",
    ),
    (
        "winback",
        "sms",
        "en",
        "",
        "{company}: we would love to welcome you back, with a welcome-back offer at any store. "
        "Stop: {unsubscribe_link}",
    ),
    (
        "winback",
        "sms",
        "zh-hans",
        "",
        "{name}，期待您回来！到任一门店即可重新开通会员卡并享回归优惠。退订：{unsubscribe_link}",
    ),
]


def forward(apps, schema_editor):
    Rule = apps.get_model("followups", "Rule")
    MessageTemplate = apps.get_model("followups", "MessageTemplate")
    for action, category, segment, kind, channel, delay, working, position in DEFAULT_RULES:
        Rule.objects.get_or_create(
            action=action,
            category=category,
            segment=segment,
            kind=kind,
            channel=channel,
            delay_days=delay,
            working_days=working,
            defaults={"position": position},
        )
    for kind, channel, language, subject, body in DEFAULT_TEMPLATES:
        MessageTemplate.objects.get_or_create(
            kind=kind, channel=channel, language=language, defaults={"subject": subject, "body": body}
        )


def backward(apps, schema_editor):
    Rule = apps.get_model("followups", "Rule")
    MessageTemplate = apps.get_model("followups", "MessageTemplate")
    for action, category, segment, kind, channel, delay, working, _position in DEFAULT_RULES:
        Rule.objects.filter(
            action=action,
            category=category,
            segment=segment,
            kind=kind,
            channel=channel,
            delay_days=delay,
            working_days=working,
        ).delete()
    for kind, channel, language, subject, body in DEFAULT_TEMPLATES:
        MessageTemplate.objects.filter(
            kind=kind, channel=channel, language=language, subject=subject, body=body
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("followups", "0003_outcome_stays_closed")]

    operations = [migrations.RunPython(forward, backward)]
