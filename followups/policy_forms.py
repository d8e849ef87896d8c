"""Forms of the follow-up policy page: one rule, one message template.

The checks themselves live in followups/policy.py (the operations run them again under lock);
the forms put each refusal next to its field.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from closures import categories
from customers.models import Customer

from . import policy
from .models import Channel, MessageTemplate, Rule


class RuleForm(forms.ModelForm):
    """When (action, reason category, segment), what (kind, channel) and how long after (delay)."""

    delay_days = forms.IntegerField(
        label=_("After (days)"),
        min_value=0,
        max_value=policy.MAX_DELAY,
        initial=0,
        help_text=_("0 to 365 days after the closure; 0 means right away."),
        error_messages={
            "min_value": _("Between 0 and 365 days."),
            "max_value": _("Between 0 and 365 days."),
            "required": _("Say how many days after the closure (0 means right away)."),
            "invalid": _("Write a whole number of days."),
        },
    )

    class Meta:
        model = Rule
        fields = ["action", "category", "segment", "kind", "channel", "delay_days", "working_days"]
        labels = {"action": _("Closure action"), "kind": _("Follow-up")}
        help_texts = {
            "kind": _("A callback goes to the card's owner (no owner: the team's queue)."),
            "channel": _("Callbacks use the phone; messages go by e-mail or SMS."),
            "working_days": _("Count Monday to Friday only."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        keep = (self.instance.category,) if self.instance.category else ()
        offered = categories.choices(include_retired=False, keep=keep)
        self.fields["category"] = forms.ChoiceField(
            label=_("Reason category"),
            choices=[("", _("Any reason"))] + offered,
            required=False,
            help_text=_("Retired categories are not offered."),
        )
        self.fields["segment"] = forms.ChoiceField(
            label=_("Segment"), choices=[("", _("Any segment"))] + list(Customer.Segment.choices), required=False
        )

    def _post_clean(self):
        super()._post_clean()  # the instance now carries the form's values: the policy's checks read it
        for field, message in policy.rule_problems(self.instance).items():
            if field is None or not self.has_error(field):
                self.add_error(field, message)


class TemplateForm(forms.ModelForm):
    """A message's words: a subject (e-mail only), the text, and the SMS provider's template code."""

    class Meta:
        model = MessageTemplate
        fields = ["subject", "body", "provider_template"]
        widgets = {"body": forms.Textarea(attrs={"rows": 10})}
        help_texts = {
            "provider_template": _(
                "SMS providers in China send only templates registered with them: the code they gave this one."
            ),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.channel == Channel.SMS:
            del self.fields["subject"]
            self.fields["body"].help_text = _(
                "One SMS holds 160 characters in Latin letters, or 70 when the text has Chinese in it; "
                "a longer text goes as several messages."
            )
        else:
            del self.fields["provider_template"]
            self.fields["subject"].required = True
            self.fields["subject"].error_messages["required"] = _("An e-mail needs a subject.")

    def _post_clean(self):
        super()._post_clean()  # the instance now carries the form's values: the policy's checks read it
        for field, listed in policy.template_problems(self.instance).items():
            if field in self.fields and not self.has_error(field):
                for message in listed:
                    self.add_error(field, message)
