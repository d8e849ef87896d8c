"""Reason categories on the Reasons page (Admin): create, rename, order, retire and merge.

Managed with the reasons' permissions; closures/category_ops.py does the writing, checks and audit.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _

from crm.permissions import require

from .. import category_ops
from ..forms import CategoryForm, MergeForm
from ..models import Closure, ClosureReason, ReasonCategory


def _saved(request, form) -> bool:
    """Save a valid category form through the operation; a refusal goes next to the form."""
    try:
        category_ops.save_category(form.save(commit=False), by=request.user, request=request)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    return True


@require("closures.add_closurereason")
def category_create(request):
    form = CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid() and _saved(request, form):
        messages.success(request, _("Category “%(label)s” created.") % {"label": form.instance.label})
        return redirect("closures:reason_list")
    return render(request, "closures/category_form.html", {"form": form})


@require("closures.change_closurereason")
def category_edit(request, pk: int):
    category = get_object_or_404(ReasonCategory, pk=pk)
    form = CategoryForm(request.POST or None, instance=category)
    if request.method == "POST" and form.is_valid() and _saved(request, form):
        messages.success(request, _("Category “%(label)s” saved.") % {"label": form.instance.label})
        return redirect("closures:reason_list")
    return render(request, "closures/category_form.html", {"form": form, "category": category})


@require("closures.change_closurereason")
def category_merge(request, pk: int):
    source = get_object_or_404(ReasonCategory, pk=pk)
    form = MergeForm(request.POST or None, source=source)
    if request.method == "POST" and form.is_valid():
        try:
            target = form.cleaned_data["target"]
            merged = category_ops.merge_categories(source, target, by=request.user, request=request)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _merged_message(merged))
            return redirect("closures:reason_list")
    context = {
        "form": form,
        "category": source,
        "reasons": ClosureReason.objects.filter(category=source.key).count(),
        "closures": Closure.objects.filter(category=source.key).count(),
    }
    return render(request, "closures/category_merge.html", context)


def _merged_message(merged: category_ops.Merged) -> str:
    return _("“%(source)s” was merged into “%(target)s”. Reasons moved: %(reasons)s; closures moved: %(closures)s.") % {
        "source": merged.source.label,
        "target": merged.target.label,
        "reasons": merged.reasons,
        "closures": merged.closures,
    }
