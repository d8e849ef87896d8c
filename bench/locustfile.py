"""Load test of the realistic mix against `make serve` (gunicorn), 127.0.0.1 only.

The mix (by request weight): search 60 % (phone, last 4 digits, customer number, names of
1-3 Chinese characters), card 25 %, closure flow 5 % (start page, "Continue", "Confirm" on a
fresh card each time), dashboard 5 % (last 12 months), closure list 5 %.

Prepare (sessions and data; needs the seed_scale data set):
    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgres://... DEBUG=0 SECRET_KEY=... \
        .venv/bin/python manage.py bench --no-seed --locust-setup bench/data/locust.json --users 64
Serve (as behind a TLS proxy, so the production security settings stay on):
    DATABASE_URL=... SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 BEHIND_TLS_PROXY=1 BIND=127.0.0.1:8765 make serve
Run, bounded in time:
    locust -f bench/locustfile.py --headless -u 16 -r 16 -t 60s --host http://127.0.0.1:8765 --only-summary

Requests carry X-Forwarded-Proto: https (what the proxy adds), and the session and CSRF
cookies are sent by hand: they are Secure cookies, which an HTTP client keeps off plain http.
LOCUST_WAIT="0.5,2" adds think time between requests (default none: the server's capacity).
"""

import itertools
import json
import os
import random
import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from locust import HttpUser, between, constant, task

DATA = json.load(open(os.environ.get("LOCUST_DATA", "bench/data/locust.json"), encoding="utf-8"))  # noqa: SIM115
_users = itertools.count()
_wait = os.environ.get("LOCUST_WAIT", "")

if urlsplit(os.environ.get("LOCUST_HOST", "http://127.0.0.1")).hostname not in ("127.0.0.1", "localhost", None):
    raise SystemExit("This load test only runs against 127.0.0.1.")


class Forms(HTMLParser):
    """Hidden inputs and the first option of each select, per form (enough for the closure flow)."""

    def __init__(self, html: str):
        super().__init__()
        self.forms: list[dict] = []
        self._select = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.forms.append({"action": attrs.get("action") or "", "fields": {}})
        elif self.forms and tag == "input" and attrs.get("name") and attrs.get("type") == "hidden":
            self.forms[-1]["fields"][attrs["name"]] = attrs.get("value") or ""
        elif self.forms and tag == "select":
            self._select = attrs.get("name")
        elif self._select and tag == "option" and attrs.get("value"):
            self.forms[-1]["fields"].setdefault(self._select, attrs["value"])

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


class Staff(HttpUser):
    wait_time = between(*map(float, _wait.split(","))) if _wait else constant(0)

    def on_start(self):
        number = next(_users)
        self.session = DATA["sessions"][number % len(DATA["sessions"])]
        self.fresh = list(DATA["fresh_cards"][number % len(DATA["fresh_cards"])])
        self.csrf = ""
        self.client.cookies.clear()

    def headers(self, path: str = "/") -> dict:
        cookie = f"{DATA['session_cookie']}={self.session}"
        if self.csrf:
            cookie += f"; csrftoken={self.csrf}"
        host = urlsplit(self.host).netloc
        return {"X-Forwarded-Proto": "https", "Cookie": cookie, "Referer": f"https://{host}{path}"}

    def get(self, path: str, name: str, params=None):
        with self.client.get(path, params=params, headers=self.headers(), name=name, catch_response=True,
                             allow_redirects=False) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
            self.remember_csrf(response)
            return response

    def remember_csrf(self, response) -> None:
        token = response.cookies.get("csrftoken")
        if token:
            self.csrf = token
        self.client.cookies.clear()

    @task(60)
    def search(self):
        kind = random.random()
        if kind < 0.3:
            self.get("/", "search: phone", {"q": random.choice(DATA["phones"])})
        elif kind < 0.5:
            self.get("/", "search: last 4 digits", {"q": random.choice(DATA["phones"])[-4:]})
        elif kind < 0.6:
            self.get("/", "search: customer number", {"q": random.choice(DATA["customer_nos"])})
        else:
            self.get("/", "search: name", {"q": random.choice(DATA["names"])})

    @task(25)
    def card(self):
        self.get(f"/customers/{random.choice(DATA['card_ids'])}/", "card")

    @task(5)
    def dashboard(self):
        self.get("/analytics/", "dashboard (12 months)", {"period": "12m"})

    @task(5)
    def closure_list(self):
        self.get("/analytics/closures/", "closure list")

    @task(5)
    def close_a_card(self):
        page = None
        while self.fresh and page is None:
            pk = self.fresh.pop()
            start = f"/closures/customer/{pk}/close/"
            with self.client.get(start, headers=self.headers(), name="closure: start page", catch_response=True,
                                 allow_redirects=False) as response:  # fmt: skip
                self.remember_csrf(response)
                if response.status_code == 200:
                    page = response
                elif response.status_code == 302:  # closed by an earlier run: the card page sends us back
                    response.success()
                else:
                    response.failure(f"HTTP {response.status_code}")
                    return
        if page is None:
            return
        forms = Forms(page.text).forms
        form = next((f for f in forms if "csrfmiddlewaretoken" in f["fields"] and "reason" in f["fields"]), None)
        if form is None:
            return
        data = dict(form["fields"], reason=str(DATA["close_reason"]), notes="")
        with self.client.post(start, data=data, headers=self.headers(start), name="closure: continue",
                              catch_response=True, allow_redirects=False) as preview:  # fmt: skip
            self.remember_csrf(preview)
            confirm = next((f for f in Forms(preview.text).forms if "token" in f["fields"]), None)
            if preview.status_code != 200 or confirm is None:
                preview.failure(f"no confirmation form (HTTP {preview.status_code})")
                return
        url = confirm["action"] or f"{start}confirm/"
        with self.client.post(url, data=confirm["fields"], headers=self.headers(start), name="closure: confirm",
                              catch_response=True, allow_redirects=False) as done:  # fmt: skip
            self.remember_csrf(done)
            if done.status_code != 302 or not re.search(rf"/customers/{pk}/", done.headers.get("Location", "")):
                done.failure(f"HTTP {done.status_code}")
