"""Run the switched-on retention rules now (for cron, or when no Celery broker runs ``make beat``)."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crm import jobs
from crm.models import Job
from privacy import retention, retention_runs
from privacy.models import RetentionRule


class Command(BaseCommand):
    help = (
        "Apply the switched-on retention rules to their eligible cards, as the Admin who last switched "
        "one on (run it nightly from cron when there is no Celery beat). --preview only counts."
    )

    def add_arguments(self, parser):
        parser.add_argument("--preview", action="store_true", help="Count what each rule would touch; change nothing.")

    def handle(self, *args, preview=False, **options):
        if preview:
            for rule in RetentionRule.objects.order_by("id"):
                shown = retention.preview(rule, sample=0)
                state = "on" if rule.enabled else "off"
                held = ", ".join(f"{key} {n}" for key, n in shown.held.items() if n) or "none"
                self.stdout.write(
                    f"{rule.status} / {rule.action} after {rule.after_months} months ({state}): "
                    f"{shown.eligible} eligible, {shown.held_total} held ({held})"
                )
            return
        if not settings.CELERY_BROKER_URL:
            settings.JOBS_RUN_INLINE = True  # this process runs the job to the end (a thread would die with it)
        try:
            job = retention_runs.start_scheduled()
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        if job is None:
            live = retention_runs.live_run()
            if live is not None:
                self.stdout.write(
                    f"Run {live.pk} is {live.get_state_display().lower()} ({live.progress} of {live.total} cards); "
                    f"a run whose worker died is taken for dead {jobs.STALE_AFTER} after its last heartbeat."
                )
            else:
                self.stdout.write("Nothing to run: no rule that changes data is switched on.")
            return
        if not settings.CELERY_BROKER_URL:
            jobs.run(str(job.pk))  # if not run already (it is claimed once)
        job.refresh_from_db()
        if job.state == Job.State.QUEUED:  # handed to a worker (Celery) or a thread
            self.stdout.write(f"Run {job.pk} queued.")
            return
        self.stdout.write(
            f"Run {job.pk}: {job.get_state_display()}, {(job.result or {}).get('changed', 0)} cards changed."
        )
        if job.state == Job.State.FAILED:
            raise CommandError(job.error)
