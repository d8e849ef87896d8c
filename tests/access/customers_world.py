"""An import batch with one card of its own, for the import batches page and the search by batch;
the Staff user's saved views: one shared with everyone, one private."""

from customers.models import ImportBatch, SavedView
from tests.factories import CustomerFactory


def extend(world) -> None:
    world.import_batch = ImportBatch.objects.create(
        file_name="客户.xlsx", created_by=world.admin_user, rows=1, created_count=1
    )
    world.batch_customer = CustomerFactory(import_batch=world.import_batch, source="旧系统 Legacy CRM")
    world.shared_view = SavedView.objects.create(
        owner=world.staff_user, name="上海重点", query="city=上海", shared=True
    )
    world.private_view = SavedView.objects.create(owner=world.staff_user, name="我的", query="q=张")
