"""What the search box matches, built so that every branch is served by an index.

One box takes a customer number, a phone (in full, in any accepted format, or its last 4
or more digits), an email, part of a name (Chinese included) or a whole ID document number
(证件号码: found through its keyed hash, so exactly and never in part; customers.identity). :func:`parse` turns the
text into two conditions: ``match`` (substrings, last digits) and ``exact`` (the rows
shown first); the search finds both. On PostgreSQL each branch has its index (migration 0002):

- customer number and email: ``UPPER(col::text) = UPPER(%s)`` on expression indexes;
- phone: ``phone = %s`` for a full number, ``phone_rev LIKE '8765%'`` (the digits reversed,
  varchar_pattern_ops index) for the last digits;
- names of 3 or more characters: ``UPPER(name::text) LIKE UPPER('%张伟明%')`` on a pg_trgm GIN
  index over exactly that expression;
- names of 1 or 2 characters (a surname such as 伟, a given name such as 张伟), which pg_trgm
  cannot serve: ``id IN (SELECT customer_id FROM customers_namegram WHERE gram = %s)``, the
  side table of every character and character pair of every name, kept by a trigger; for a user
  who sees only their own cards, the names of those, from the owner index that includes them;
- exact matches (number, whole name) through ``UPPER(col::text) = UPPER(%s)`` indexes;
- an ID document number: ``id_number_hash = %s`` (a partial index of the cards that have one).

SQLite (the embedded default) has none of these and uses plain LIKE.
"""

import re
from dataclasses import dataclass, replace

from django.db import connections
from django.db.models import F, Q, Value

from crm import arrays

from . import identity
from .models import Customer, NameGram
from .numbers import normalise_customer_no
from .phones import normalise_phone, phone_digits

GRAM_MAX = 2  # names searched through the NameGram table up to this many characters
MIN_PHONE_DIGITS = 4
MAX_QUERY_LENGTH = 100

_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]+")
_CUSTOMER_NO_LIKE = re.compile(r"[A-Z0-9][A-Z0-9._/-]{0,31}")


@dataclass(frozen=True)
class Terms:
    """The search box, understood: the rows it finds are ``match | exact``, exact ones first.

    For names, ``match`` is the substring search and ``exact`` adds the customer number and
    the whole name. They are kept apart rather than OR-ed into one condition because
    PostgreSQL cannot serve "number = x OR id IN (grams)" from indexes (it scans the table):
    the page reads the exact rows and the other matches with separate queries (see
    customers.results.ExactFirst).
    """

    text: str
    match: Q
    exact: Q | None  # None: nothing can match exactly (only the last digits of a phone)
    in_id_order: bool = False  # match is read from the name-gram index, which is in customer id order
    by_name: bool = False  # match is a substring of the name
    # Every branch is an equality or a prefix of at least MIN_PHONE_DIGITS reversed digits, so
    # the matches are few (the last 4 digits of a phone: about one card in 10,000), can be
    # sorted exact-first and counted in the query that reads the page.
    few: bool = False
    # The last digits alone (no full phone): about 100 matches at a million cards, each on its own
    # page of the table. Their ids can come from the phone_rev index alone (customers.results.LastDigits).
    by_suffix: Q | None = None

    @property
    def found(self) -> Q:
        return self.match if self.exact is None else self.match | self.exact


def clean_text(text: str) -> str:
    """Spaces collapsed, at most 100 characters."""
    return " ".join((text or "").split())[:MAX_QUERY_LENGTH]


def parse(text: str, using: str = "default", *, within: Q | None = None) -> Terms | None:
    """The conditions for what someone typed, or None for an empty box.

    ``within``: the search is narrowed to one owner's cards (a user scoped to their own,
    crm/scopes.py), so a name of 1 or 2 characters is matched on each of them: their ids are read
    from the owner index that carries the name (``customer_owner_status``, an index-only scan),
    instead of from the name grams of every card with that character (100,000 for a common
    surname, then cut to the owner's). On PostgreSQL they are read once, here, and the queries of
    the page select them by primary key (``id = ANY(array)``)."""
    text = clean_text(text)
    if not text:
        return None
    number = normalise_customer_no(text)
    by_number = Q(customer_no__iexact=number) if _CUSTOMER_NO_LIKE.fullmatch(number) else None
    if "@" in text:
        return _combine(text, [by_number, Q(email__iexact=text)], [by_number, Q(email__iexact=text)])
    id_hash = identity.search_hash(text)
    by_id = Q(id_number_hash=id_hash) if id_hash else None
    digits = phone_digits(text)
    if _PHONE_LIKE.fullmatch(text) and len(digits) >= MIN_PHONE_DIGITS:
        full = _full_phone(text)
        by_phone = Q(phone=full) if full else None
        by_suffix = Q(phone_rev__startswith=digits[::-1])
        terms = _combine(text, [by_number, by_phone, by_id, by_suffix], [by_number, by_phone, by_id])
        return terms if full else replace(terms, by_suffix=by_suffix)
    exact = _any([by_number, Q(name__iexact=text), by_id])
    if within is not None and len(text) <= GRAM_MAX:
        # Chinese has no case: LIKE without upper() on each of the owner's names (about a third faster).
        like = {"name__contains" if text.lower() == text.upper() else "name__icontains": text}
        names = Customer.objects.using(using).filter(within, **like).order_by()
        if connections[using].vendor == "postgresql":
            # Matched once, here: the count, the page and "also N closed" then read these ids by key.
            ids = arrays.literal(sorted(names.values_list("pk", flat=True)))
            match = Q(arrays.InArray(F("pk"), Value(ids)))
            return Terms(text=text, match=match, exact=exact, in_id_order=True, by_name=True)
        return Terms(text=text, match=Q(pk__in=names.values("pk")), exact=exact, by_name=True)
    if connections[using].vendor == "postgresql" and len(text) <= GRAM_MAX:
        grams = NameGram.objects.filter(gram=text.lower()).order_by().values("customer_id")
        return Terms(text=text, match=Q(pk__in=grams), exact=exact, in_id_order=True, by_name=True)
    return Terms(text=text, match=Q(name__icontains=text), exact=exact, by_name=True)


def _full_phone(text: str) -> str | None:
    try:
        return normalise_phone(text) or None
    except Exception:  # not a complete number: only its last digits are searched
        return None


def _any(conditions: list[Q | None]) -> Q | None:
    result = None
    for condition in conditions:
        if condition is not None:
            result = condition if result is None else result | condition
    return result


def _combine(text: str, match: list[Q | None], exact: list[Q | None]) -> Terms:
    return Terms(text=text, match=_any(match), exact=_any(exact), few=True)


def database_locale_problem(using: str = "default") -> str | None:
    """A message when PostgreSQL's LC_CTYPE makes pg_trgm blind to Chinese characters, else None.

    Under LC_CTYPE=C pg_trgm treats every non-ASCII character as a separator, so trigram
    search finds no Chinese name. C.UTF-8, en_US.UTF-8, zh_CN.UTF-8 are all fine.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('lc_ctype'), current_database()")
        ctype, database = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
        has_trgm = cursor.fetchone()[0] > 0
        blind = False
        if has_trgm:
            cursor.execute("SELECT coalesce(array_length(show_trgm('张伟明'), 1), 0)")
            blind = cursor.fetchone()[0] == 0
    if ctype.upper() in ("C", "POSIX") or blind:
        return (
            f"Database {database} has LC_CTYPE={ctype}: pg_trgm ignores Chinese characters there, so name "
            "search misses Chinese names. Create the database with a UTF-8 locale, for example: "
            f"CREATE DATABASE {database} TEMPLATE template0 ENCODING 'UTF8' "
            "LC_COLLATE 'C.UTF-8' LC_CTYPE 'C.UTF-8';"
        )
    return None


def check_database_locale(app_configs=None, databases=None, **kwargs):
    """System check (tag "database"; runs with migrate and `manage.py check --database default`)."""
    from django.core.checks import Error

    errors = []
    for alias in databases or []:
        problem = database_locale_problem(alias)
        if problem:
            errors.append(Error(problem, id="customers.E001"))
    return errors
