"""The outbox's dispatcher: a consumer is handed only the events it wants now, and a process runs one
dispatch thread at a time however many commits ask for one."""

import threading

import pytest

from crm import outbox
from crm.models import Event, EventReceipt

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener(monkeypatch):
    """A consumer "test" of ``thing.*`` events that records what it was handed; ``wanted`` is what
    its ``wants`` answers (None: no ``wants`` at all)."""
    handed: list[int] = []

    class Listener:
        wanted: set[str] | None = set()

        def register(self):
            wants = None if self.wanted is None else (lambda: self.wanted)
            outbox.consumer("test", types=("thing.made", "thing.gone"), wants=wants)(
                lambda events: handed.extend(event.pk for event in events)
            )

        handed_ids = handed

    listener = Listener()
    monkeypatch.setattr(outbox, "_CONSUMERS", {})
    return listener


def test_a_consumer_is_not_handed_the_types_it_does_not_want_now(listener):
    listener.wanted = {"thing.gone"}
    listener.register()
    made = outbox.emit("thing.made", object_type="thing", object_id=1)
    gone = outbox.emit("thing.gone", object_type="thing", object_id=1)
    outbox.dispatch()
    assert listener.handed_ids == [gone.pk]
    assert list(EventReceipt.objects.values_list("event_id", flat=True)) == [gone.pk]

    listener.wanted = {"thing.gone", "thing.made"}  # someone subscribes: what is not yet settled comes
    outbox.dispatch()
    assert listener.handed_ids == [gone.pk, made.pk]


def test_a_consumer_with_nothing_wanted_writes_no_receipts(listener):
    listener.register()
    outbox.emit_many("thing.made", [{"object_type": "thing", "object_id": n} for n in range(120)])
    assert outbox.dispatch() == 0
    assert Event.objects.count() == 120 and not EventReceipt.objects.exists()


def test_without_wants_a_consumer_is_handed_all_its_types(listener):
    listener.wanted = None
    listener.register()
    events = [outbox.emit("thing.made"), outbox.emit("thing.gone"), outbox.emit("other.thing")]
    outbox.dispatch()
    assert listener.handed_ids == [events[0].pk, events[1].pk]


def test_commits_during_a_dispatch_thread_start_no_second_thread_but_one_more_dispatch(monkeypatch, settings):
    settings.CELERY_BROKER_URL = ""
    settings.JOBS_RUN_INLINE = False
    monkeypatch.setattr(outbox, "_CONSUMERS", {"test": object()})
    started, release, finished = threading.Event(), threading.Event(), threading.Event()
    runs: list[str] = []

    def slow_dispatch():
        runs.append(threading.current_thread().name)
        started.set()
        release.wait(5)
        if len(runs) == 2:
            finished.set()

    monkeypatch.setattr(outbox, "dispatch", slow_dispatch)
    monkeypatch.setattr(outbox.connections, "close_all", lambda: None)
    threads_before = threading.active_count()
    outbox.enqueue_dispatch()
    assert started.wait(5)
    for _ in range(5):  # five commits while the first dispatch runs
        outbox.enqueue_dispatch()
    assert threading.active_count() == threads_before + 1
    release.set()
    assert finished.wait(5)
    for _ in range(50):
        if not outbox._running.locked():
            break
        threading.Event().wait(0.02)
    assert runs == ["outbox", "outbox"]  # the five asked for one more dispatch, in the same thread
    assert not outbox._running.locked()
