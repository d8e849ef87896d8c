"""The "Data scopes" page (Admins: crm.manage_data_scopes): which cards Staff and Managers see."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from . import scopes
from .forms import DataScopeForm
from .models import Team
from .permissions import require


@require("crm.manage_data_scopes")
def data_scopes(request):
    form = DataScopeForm(request.POST or None, initial=scopes.current())
    if request.method == "POST" and form.is_valid():
        if scopes.change(form.cleaned_data, by=request.user, request=request):
            messages.success(request, _("Data scopes saved. They apply from everyone's next page."))
        else:
            messages.info(request, _("Nothing changed."))
        return redirect("users:data_scopes")
    teams = Team.objects.filter(active=True).select_related("manager").prefetch_related("members").order_by("pk")
    return render(request, "users/data_scopes.html", {"form": form, "teams": teams})
