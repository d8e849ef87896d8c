"""Reason management and closure settings (Admin).

Reasons are never deleted: a retired reason (inactive) stays on old closures and in analytics.
"""

from collections import Counter

from django.contrib import messages
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from crm import audit
from crm.permissions import require

from .. import categories
from ..forms import ClosureSettingsForm, ReasonForm
from ..models import ClosureReason, ClosureSettings, ReasonCategory

REASON_FIELDS = ReasonForm.Meta.fields


def _snapshot(obj, fields) -> dict:
    return {name: getattr(obj, name) for name in fields}


@require("closures.change_closurereason")
def reason_list(request):
    reasons = list(ClosureReason.objects.order_by("-is_active", "display_order", "id"))
    labels = categories.labels()
    for reason in reasons:
        reason.category_label = labels.get(reason.category, reason.category)
    in_use = Counter(reason.category for reason in reasons)
    found = list(ReasonCategory.objects.select_related("merged_into").order_by("-is_active", "display_order", "id"))
    for category in found:
        category.reason_count, category.mergeable = in_use[category.key], category.key != categories.DUPLICATE
    context = {"reasons": reasons, "categories": found}
    return render(request, "closures/reason_list.html", context)


@require("closures.add_closurereason")
def reason_create(request):
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            reason = form.save()
            audit.record(
                "reason.create",
                request=request,
                obj=reason,
                changes=audit.diff({}, _snapshot(reason, REASON_FIELDS)),
                data={"reason": reason.pk},
            )
        messages.success(request, _("Reason “%(label)s” created.") % {"label": reason.label})
        return redirect("closures:reason_list")
    return render(request, "closures/reason_form.html", {"form": form})


@require("closures.change_closurereason")
def reason_edit(request, pk):
    reason = get_object_or_404(ClosureReason, pk=pk)
    before = _snapshot(reason, REASON_FIELDS)
    form = ReasonForm(request.POST or None, instance=reason)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            reason = form.save()
            audit.record(
                "reason.update",
                request=request,
                obj=reason,
                changes=audit.diff(before, _snapshot(reason, REASON_FIELDS)),
                data={"reason": reason.pk},
            )
        messages.success(request, _("Reason “%(label)s” saved.") % {"label": reason.label})
        return redirect("closures:reason_list")
    return render(request, "closures/reason_form.html", {"form": form, "reason": reason})


@require("closures.change_closuresettings")
def closure_settings(request):
    current = ClosureSettings.load()
    before = _snapshot(current, ClosureSettingsForm.Meta.fields)
    form = ClosureSettingsForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            saved = form.save()
            audit.record(
                "settings.update",
                request=request,
                obj=saved,
                object_type="closuresettings",
                changes=audit.diff(before, _snapshot(saved, ClosureSettingsForm.Meta.fields)),
            )
        messages.success(request, _("Closure settings saved."))
        return redirect("closures:settings")
    return render(request, "closures/settings.html", {"form": form})
