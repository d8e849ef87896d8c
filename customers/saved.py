"""Saved views: a search kept under a name, private or shared with everyone.

A saved view stores the search page's query string, cleaned by :func:`clean_query` to the
search's own parameters (the box, the filters, the sort): a page number, an open panel or
anything typed into the URL by hand is dropped, so a saved view always opens the search as a
search. Who may do what is decided in one place, :func:`saved_view_for`.
"""

from django import forms
from django.http import Http404, QueryDict
from django.utils.translation import gettext_lazy as _

from . import extra_filters
from .filters import CustomerFilter, known_names
from .models import SavedView

MAX_VALUE = 200
MAX_QUERY = SavedView._meta.get_field("query").max_length


def clean_query(raw: str) -> str:
    """The search parameters of a query string, in the filters' order, empty values and unknown
    parameters left out: ``page=3&q=张伟&evil=1&status=closed`` → ``q=张伟&status=closed``."""
    given = QueryDict(raw.lstrip("?"))
    kept = QueryDict(mutable=True)
    for name in known_names():  # q, status, the advanced filters (registered ones too), o
        values = [value.strip()[:MAX_VALUE] for value in given.getlist(name) if value.strip()]
        if values:
            kept.setlist(name, values)
    return kept.urlencode()


def saved_view_for(user, pk: int, *, to: str) -> SavedView:
    """The saved view ``pk`` if ``user`` may ``to`` ("open", "edit" or "delete") it, else Http404
    (someone else's private view is not there for them; nor is any for whoever may not search
    customers). Open: one's own and shared ones; edit: one's
    own; delete: one's own, and shared ones for whoever holds customers.delete_shared_savedview."""
    if not user.has_perm("customers.view_customer"):
        raise Http404
    view = SavedView.objects.filter(pk=pk).select_related("owner").first()
    if view is None:
        raise Http404
    own = view.owner_id == user.pk
    allowed = {
        "open": own or view.shared,
        "edit": own,
        "delete": own or (view.shared and user.has_perm("customers.delete_shared_savedview")),
    }[to]
    if not allowed:
        raise Http404
    return view


class SavedViewForm(forms.ModelForm):
    """Name a search (and share it); ``owner`` is who saves it, for the one-name-each rule."""

    query = forms.CharField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = SavedView
        fields = ["name", "shared", "query"]
        help_texts = {"shared": _("Everyone who may search customers sees it in their list; only you can change it.")}

    def __init__(self, *args, owner, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        if self.instance.pk:  # renaming: the search itself stays as it was saved
            del self.fields["query"]

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Give the search a name."), code="required")
        mine = SavedView.objects.filter(owner=self.owner, name__iexact=name).exclude(pk=self.instance.pk)
        if mine.exists():
            raise forms.ValidationError(
                _("You already have a saved view named “%(name)s”; choose another name."),
                code="unique",
                params={"name": name},
            )
        return name

    def clean_query(self) -> str:
        query = clean_query(self.cleaned_data.get("query") or "")
        if not query:
            raise forms.ValidationError(_("There is no search to save: search or filter first."), code="empty")
        if len(query) > MAX_QUERY:
            raise forms.ValidationError(_("This search is too long to save."), code="long")
        return query

    def save(self, commit: bool = True) -> SavedView:
        self.instance.owner = self.owner
        return super().save(commit=commit)


def describe_query(query: str) -> list[tuple[str, str]]:
    """The saved search in words: (the filter's label, its values), choices shown by their labels."""
    given = QueryDict(query)
    described = []
    for name in known_names():
        values = given.getlist(name)
        if not values:
            continue
        registered = extra_filters.get(name)
        if registered is not None:
            described.append(registered.describe(values))
            continue
        field = CustomerFilter.base_filters[name]
        choices = dict(field.extra.get("choices") or []) if not callable(field.extra.get("choices")) else {}
        described.append((str(field.label), ", ".join(str(choices.get(value, value)) for value in values)))
    return described
