"""Running calls at the same instant from several threads, each on its own database connection
(the PostgreSQL race tests: real row locks between real connections)."""

import threading

from django.db import connections


def run_together(*calls):
    """Run the calls in threads released at the same instant; each thread closes its connection."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # reported by the test, not swallowed
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results
