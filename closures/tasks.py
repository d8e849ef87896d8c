from celery import shared_task

from . import notify


@shared_task(name="closures.tell_requester", ignore_result=True)
def tell_requester(pk: int, link: str = "") -> None:
    """The decision e-mail (closures/notify.py), on a worker when CELERY_BROKER_URL is set, else in-process."""
    notify.tell_requester(pk, link=link)
