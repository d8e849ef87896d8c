"""Production's settings plus the development tools of bench/ (the `bench` and `seed_scale`
commands), for `make bench` and `make loadtest`:

    DJANGO_SETTINGS_MODULE=bench.settings .venv/bin/python manage.py bench
    .venv/bin/python manage.py seed_scale --settings bench.settings --customers 1000 --closures 200

Everything else is crm.settings, read from the same environment; the server the load test
measures runs on crm.settings itself.
"""

from crm.settings import *  # noqa: F403
from crm.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]

# The benchmark times a large export as the job it becomes, inside the child process that asked for
# it: without a broker a job would otherwise run in a thread that process does not wait for.
JOBS_RUN_INLINE = True
