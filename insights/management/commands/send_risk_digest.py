"""`manage.py send_risk_digest`: the owners' daily risk digest by e-mail (insights/digest.py), for cron."""

from django.core.management.base import BaseCommand

from insights.digest import send_digests


class Command(BaseCommand):
    help = (
        "E-mail each owner their customers newly at risk since their last digest and their retention callbacks "
        "due, once a day (INSIGHTS_DIGEST_EMAIL must be on). Celery beat runs it at 07:30; cron can run this."
    )

    def handle(self, *args, **options):
        done = send_digests()
        if done.off:
            self.stdout.write("The risk digest is off: set INSIGHTS_DIGEST_EMAIL=1 and configure mail to send it.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Sent {done.sent} digests; skipped {done.no_address} owners without an e-mail address, "
                f"{done.already} already sent today; {done.failed} failed."
            )
        )
