"""/api/v1/analytics/closures/: the figures of the Closure analytics dashboard, for its filters.

The same ClosureFilter (analytics.filters) reads the same query string as the dashboard, and the same
function computes the figures (analytics.figures.compute), so a number here is the number the page
shows for the same parameters. Shares are fractions (0..1); labels are in the request's language.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from analytics import figures
from analytics.filters import ClosureFilter
from closures.models import Closure

from .errors import check_form
from .schema import READ_ERRORS
from .views import ApiView


def filter_parameters() -> list[OpenApiParameter]:
    """The dashboard's filters as query parameters (the closure list takes the same)."""
    kinds = {"DateFilter": OpenApiTypes.DATE, "CheckboxFilter": OpenApiTypes.BOOL}
    ids = ("ReasonFilter", "PersonFilter", "ModelChoiceFilter")
    out = []
    for name, filter_ in ClosureFilter.base_filters.items():
        kind = type(filter_).__name__
        schema_type = kinds.get(kind, OpenApiTypes.INT if kind in ids else OpenApiTypes.STR)
        out.append(OpenApiParameter(name, schema_type, description=str(filter_.label or name)))
    return out


def drill_down_parameters() -> list[OpenApiParameter]:
    """The closure list's drill-downs (analytics.listing.drill_down), as on the page's links."""
    text, day, number = OpenApiTypes.STR, OpenApiTypes.DATE, OpenApiTypes.INT
    described = [
        ("own", text, "The customer's own reason from the exit survey: a reason's id, 'other' or 'none'."),
        ("svc", text, "What service the customer had: 'after' (a ticket), 'none' (no ticket) or 'breached'."),
        ("svc_from", day, "Tickets opened from this day."),
        ("svc_to", day, "Tickets opened up to this day (needed with 'after' and 'none')."),
        ("svc_category", number, "Tickets of this category (id)."),
        ("svc_team", number, "Tickets of this team (id)."),
        ("svc_channel", text, "Tickets that came in through this channel."),
        ("svc_priority", text, "Tickets of this priority."),
        ("svc_sla", text, "Tickets whose SLA was 'missed', 'met' or is still 'open'."),
        ("svc_reopened", text, "Tickets reopened ('yes') or not ('no')."),
    ]
    return [OpenApiParameter(name, kind, description=description) for name, kind, description in described]


class SliceSerializer(serializers.Serializer):
    key = serializers.CharField(
        help_text="The filter value that selects this group (a reason's id, a category key...)."
    )
    label = serializers.CharField()
    count = serializers.IntegerField()
    share = serializers.FloatField(help_text="Of the period's closures, 0..1.")
    note = serializers.CharField()
    retired = serializers.BooleanField()


class MonthSerializer(serializers.Serializer):
    month = serializers.CharField(help_text="YYYY-MM")
    total = serializers.IntegerField()
    by_category = serializers.DictField(child=serializers.IntegerField())


class PeriodSerializer(serializers.Serializer):
    first = serializers.DateField(allow_null=True, help_text="Null: all time.")
    last = serializers.DateField()


class ChurnSerializer(serializers.Serializer):
    action = serializers.CharField(help_text="What counts as churn (the action filter; close by default).")
    rate = serializers.FloatField(allow_null=True)
    previous_rate = serializers.FloatField(allow_null=True)
    blocked_by = serializers.ListField(
        child=serializers.CharField(), help_text="Filters that keep the rate from being shown (as the page says)."
    )


class FiguresSerializer(serializers.Serializer):
    period = PeriodSerializer()
    previous = PeriodSerializer(allow_null=True)
    total = serializers.IntegerField()
    previous_total = serializers.IntegerField(allow_null=True)
    reinstated = serializers.IntegerField()
    pending_approvals = serializers.IntegerField()
    churn = ChurnSerializer()
    by_action = SliceSerializer(many=True)
    by_reason = SliceSerializer(many=True)
    by_category = SliceSerializer(many=True)
    by_segment = SliceSerializer(many=True)
    by_tenure = SliceSerializer(many=True)
    by_staff = SliceSerializer(many=True)
    months = MonthSerializer(many=True)


def _period(period) -> dict | None:
    return None if period is None else {"first": period.first, "last": period.last}


def figures_data(numbers: figures.Figures) -> dict:
    def slices(rows):
        return [
            {
                "key": str(s.key),
                "label": s.label,
                "count": s.count,
                "share": s.share,
                "note": s.note,
                "retired": s.retired,
            }
            for s in rows
        ]

    churn = numbers.churn
    return {
        "period": _period(numbers.period),
        "previous": _period(numbers.previous),
        "total": numbers.total,
        "previous_total": numbers.previous_total,
        "reinstated": numbers.reinstated,
        "pending_approvals": numbers.pending_approvals,
        "churn": {
            "action": churn.action,
            "rate": numbers.churn_rate,
            "previous_rate": numbers.previous_churn_rate,
            "blocked_by": [str(label) for label in churn.blocked_by],
        },
        **{name: slices(getattr(numbers, name)) for name in SLICES},
        "months": [
            {"month": f"{m.first:%Y-%m}", "total": m.total, "by_category": dict(m.counts)} for m in numbers.months
        ],
    }


SLICES = ("by_action", "by_reason", "by_category", "by_segment", "by_tenure", "by_staff")


class ClosureFigures(ApiView):
    """The Closure analytics dashboard's figures (by action, reason, category, segment, tenure, staff,
    month; the churn rate), for its filters."""

    required_permissions = ("closures.view_analytics",)
    serializer_class = FiguresSerializer
    queryset = Closure.objects.none()
    pagination_class = None

    @extend_schema(parameters=filter_parameters(), responses={200: FiguresSerializer, **READ_ERRORS})
    def get(self, request):
        params = request.query_params
        fs = ClosureFilter(params, user=request.user)
        if not fs.is_valid():
            check_form(lambda: ClosureFilter(params).form)
        return Response(FiguresSerializer(figures_data(figures.compute(fs))).data)
