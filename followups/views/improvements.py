"""Improvement actions (Managers and Admins): list, add, edit, delete. The dashboard links here."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from closures import categories as reason_categories
from crm.permissions import require

from .. import improvements
from ..improvement_forms import ImprovementForm
from ..models import Improvement

PER_PAGE = 50


def _today():
    return timezone.localdate(timezone=timezone.get_default_timezone())


def _saved(request, form, pk=None) -> bool:
    """Run the operation for a valid form; a refusal goes next to its fields."""
    try:
        if pk is None:
            improvements.add_improvement(form.save(commit=False), by=request.user, request=request)
        else:
            improvements.change_improvement(pk, form.cleaned_data, by=request.user, request=request)
    except ValidationError as exc:
        form.add_error(None, exc)
        return False
    return True


@require("followups.view_improvement")
def improvement_list(request):
    today, labels = _today(), reason_categories.labels()
    page = Paginator(Improvement.objects.select_related("created_by"), PER_PAGE).get_page(request.GET.get("page"))
    for item in page.object_list:
        item.category_labels = [labels.get(key, key) for key in item.categories]
        item.planned = improvements.is_planned(item, today)
    return render(request, "followups/improvement_list.html", {"page_obj": page, "items": page.object_list})


@require("followups.add_improvement")
def improvement_add(request):
    form = ImprovementForm(request.POST or None, today=_today())
    if request.method == "POST" and form.is_valid() and _saved(request, form):
        messages.success(request, _("Improvement action “%(title)s” recorded.") % {"title": form.instance.title})
        return redirect("followups:improvement_list")
    return render(request, "followups/improvement_form.html", {"form": form})


@require("followups.change_improvement")
def improvement_edit(request, pk: int):
    item = get_object_or_404(Improvement, pk=pk)
    form = ImprovementForm(request.POST or None, instance=item, today=_today())
    if request.method == "POST" and form.is_valid() and _saved(request, form, pk=item.pk):
        messages.success(request, _("Improvement action “%(title)s” saved.") % {"title": form.cleaned_data["title"]})
        return redirect("followups:improvement_list")
    return render(request, "followups/improvement_form.html", {"form": form, "item": item})


@require("followups.delete_improvement")
def improvement_delete(request, pk: int):
    item = get_object_or_404(Improvement, pk=pk)
    if request.method == "POST":
        improvements.delete_improvement(item.pk, by=request.user, request=request)
        messages.success(request, _("Improvement action “%(title)s” deleted.") % {"title": item.title})
        return redirect("followups:improvement_list")
    labels = reason_categories.labels()
    item.category_labels = [labels.get(key, key) for key in item.categories]
    return render(request, "followups/improvement_confirm_delete.html", {"item": item})
