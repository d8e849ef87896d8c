"""Filters of the audit log page."""

import django_filters
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crm.audit import ACTION_LABELS
from crm.models import AuditEntry
from customers.models import Customer
from customers.numbers import normalise_customer_no


class AuditFilter(django_filters.FilterSet):
    actor = django_filters.ModelChoiceFilter(
        label=_("Who"), queryset=get_user_model().objects.order_by("username"), empty_label=_("Anyone")
    )
    action = django_filters.ChoiceFilter(
        label=_("What"), choices=list(ACTION_LABELS.items()), empty_label=_("Any action")
    )
    since = django_filters.DateFilter(label=_("From"), field_name="at", lookup_expr="date__gte")
    until = django_filters.DateFilter(label=_("To"), field_name="at", lookup_expr="date__lte")
    customer = django_filters.CharFilter(label=_("Customer number"), method="filter_customer")

    class Meta:
        model = AuditEntry
        fields = ["actor", "action", "since", "until", "customer"]

    def filter_customer(self, queryset, name, value):
        number = normalise_customer_no(value)
        customer_id = Customer.objects.filter(customer_no=number).values_list("pk", flat=True).first()
        return queryset.filter(customer_id=customer_id) if customer_id else queryset.none()
