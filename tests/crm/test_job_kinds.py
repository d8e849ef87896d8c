"""Every kind of job a user can be shown has something that runs it, and nothing runs a kind the
Job model does not know (a kind without a runner would be refused by crm.jobs.start, or queued
forever if created otherwise)."""

from crm import jobs
from crm.models import Job


def test_every_job_kind_has_a_registered_runner_and_every_runner_a_kind():
    assert set(jobs._KINDS) == set(Job.Kind.values)
