"""Celery application.

With ``CELERY_BROKER_URL`` set (for example ``redis://127.0.0.1:6379/0``) long jobs run on
``make worker``. Without it tasks run eagerly in the web process, so the embedded default
(`make run`) needs no extra service.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
