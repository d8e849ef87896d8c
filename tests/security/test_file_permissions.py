"""Export and import files on disk hold personal data: only the app's own user may read them."""

import os
import stat
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm import jobs
from crm.models import Job
from tests.factories import CustomerFactory
from tests.fixtures.customer_files import good_rows, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_media_root(settings, tmp_path):
    """A MEDIA_ROOT the app has to create, under a umask that would leave everything world-readable."""
    settings.MEDIA_ROOT = str(tmp_path / "var" / "media")
    previous = os.umask(0o002)
    yield Path(settings.MEDIA_ROOT)
    os.umask(previous)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _folders_up_to(path: Path, root: Path) -> list[Path]:
    """Every folder between ``path`` and ``root``, ``root`` included."""
    folders = [parent for parent in path.parents if parent == root or root in parent.parents]
    assert root in folders
    return folders


def test_a_customer_export_job_writes_its_file_for_the_app_user_only(fresh_media_root, admin_user):
    CustomerFactory.create_batch(3)
    job = Job.objects.create(kind=Job.Kind.CUSTOMERS_XLSX, created_by=admin_user, params={"filters": {}})

    jobs.run(str(job.pk))

    job.refresh_from_db()
    assert job.state == Job.State.DONE, job.error
    written = Path(job.file.path)
    assert written.is_file() and fresh_media_root in written.parents
    assert _mode(written) == 0o600
    assert {folder.name: _mode(folder) for folder in _folders_up_to(written, fresh_media_root)} == {
        folder.name: 0o700 for folder in _folders_up_to(written, fresh_media_root)
    }


@pytest.mark.parametrize("size", ["small", "large"])
def test_an_import_upload_is_stored_for_the_app_user_only(fresh_media_root, admin_client, settings, size):
    # Past FILE_UPLOAD_MAX_MEMORY_SIZE an upload arrives as a temporary file that is moved into
    # place (keeping the temporary file's mode); below it, it is written from memory.
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0 if size == "large" else 5 * 1024 * 1024
    uploaded = SimpleUploadedFile("customers.xlsx", xlsx_bytes(good_rows(3)))

    response = admin_client.post(reverse("customers:import"), {"file": uploaded})

    assert response.status_code == 200 and response.context["report"].ok
    (folder,) = (fresh_media_root / "imports").iterdir()
    files = {f.name: _mode(f) for f in folder.iterdir()}
    assert files == {"meta.json": 0o600, "upload.xlsx": 0o600, "rows.jsonl": 0o600}
    assert [_mode(d) for d in (folder, folder.parent, fresh_media_root)] == [0o700, 0o700, 0o700]
