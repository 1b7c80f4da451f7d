"""The webhook deliveries ride the background queue (issue 11's `db_worker`)."""

from django_tasks import task


@task()
def deliver_webhooks() -> int:
    """Send every due webhook delivery; how many were attempted."""
    from accounts.webhooks.services import deliver_due

    return deliver_due()
