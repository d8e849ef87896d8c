"""Re-encrypt every ID document number with the first key of CRM_FIELD_KEYS; with --rehash, also
recompute their keyed hashes with CRM_HASH_KEY.

Rotating the encryption key: put the new key first in CRM_FIELD_KEYS (the old one after it), restart,
run this, then remove the old key. Changing CRM_HASH_KEY: set the new one, restart, run this with
--rehash (until it has run, the search by ID number finds nothing). Cards are read and written in
batches, each locked (as the card gate locks them) for its own short transaction, in primary-key
order, so the command can run while people work and be run again after an interruption. The values
do not change, so no card is audited and none looks edited (``updated_at`` is left alone).
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from customers import identity
from customers.models import Customer


class Command(BaseCommand):
    help = (
        "Re-encrypt every ID document number with the first key of CRM_FIELD_KEYS "
        "(--rehash: also recompute their keyed hashes with CRM_HASH_KEY)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rehash", action="store_true", help="recompute the keyed hashes (CRM_HASH_KEY changed)")
        parser.add_argument("--batch-size", type=int, default=1000, help="cards per transaction (default 1000)")

    def handle(self, *args, rehash: bool = False, batch_size: int = 1000, **options):
        done, last = 0, 0
        while True:
            with transaction.atomic():
                batch = rotate_batch(after=last, size=batch_size, rehash=rehash)
            if not batch:
                break
            done += len(batch)
            last = batch[-1]
        what = "re-encrypted and rehashed" if rehash else "re-encrypted"
        self.stdout.write(self.style.SUCCESS(f"{done} ID document numbers {what}."))


def rotate_batch(*, after: int, size: int, rehash: bool) -> list[int]:
    """The next ``size`` cards with an ID number after id ``after``, locked, re-read and written back
    (encrypted with the first key; rehashed when asked). Returns their ids."""
    cards = Customer.objects.exclude(id_number="").filter(pk__gt=after).order_by("pk")
    ids = list(cards.values_list("pk", flat=True)[:size])
    for pk, value in (
        Customer.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", "id_number")
    ):
        values = {"id_number": value}
        if rehash:
            values["id_number_hash"] = identity.keyed_hash(value)
        Customer.objects.filter(pk=pk).update(**values)
    return ids
