"""Saved views: save the current search under a name, open one, rename or delete one's own."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from crm.permissions import logged_in, require

from ..saved import SavedViewForm, clean_query, describe_query, saved_view_for


@require("customers.view_customer")
def saved_view_create(request):
    """Name the search in ``?<the search's parameters>`` (from the search page's "Save this search")."""
    initial = {"query": clean_query(request.GET.urlencode())}
    form = SavedViewForm(request.POST or None, initial=initial, owner=request.user)
    if request.method == "POST" and form.is_valid():
        view = form.save()
        messages.success(request, _("Saved view “%(name)s” saved.") % {"name": view.name})
        return redirect(view.get_absolute_url())
    context = {"form": form, "described": describe_query(clean_query(form["query"].value() or "")), "view": None}
    return render(request, "customers/saved_view_form.html", context)


@logged_in  # saved_view_for checks customers.view_customer and whose view it is (404 otherwise)
def saved_view_open(request, pk: int):
    """The search a saved view holds (one's own, or a shared one)."""
    return redirect(saved_view_for(request.user, pk, to="open").get_absolute_url())


@logged_in  # saved_view_for checks customers.view_customer and whose view it is (404 otherwise)
def saved_view_edit(request, pk: int):
    """Rename one's own saved view, or share it or make it private again."""
    view = saved_view_for(request.user, pk, to="edit")
    form = SavedViewForm(request.POST or None, instance=view, owner=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved view “%(name)s” saved.") % {"name": view.name})
        return redirect("customers:search")
    context = {"form": form, "described": describe_query(view.query), "view": view}
    return render(request, "customers/saved_view_form.html", context)


@logged_in  # saved_view_for checks customers.view_customer and whose view it is (404 otherwise)
def saved_view_delete(request, pk: int):
    """Delete one's own saved view (Admins: also someone else's shared one), after a confirmation."""
    view = saved_view_for(request.user, pk, to="delete")
    if request.method == "POST":
        view.delete()
        messages.success(request, _("Saved view “%(name)s” deleted.") % {"name": view.name})
        return redirect("customers:search")
    return render(request, "customers/saved_view_delete.html", {"view": view})
