from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def tasks_queued_in_production(app_configs, **kwargs):
    """In-process tasks are for development: a request would wait for the mail server, and the
    reset request's time would again tell whether the account exists."""
    if getattr(settings, "TASKS_IN_PROCESS", False):
        return [
            Warning(
                "TASKS_IN_PROCESS is on: emails are sent inside requests, without retries.",
                hint="Set TASKS_IN_PROCESS=False and run `manage.py db_worker` (see the runbook).",
                id="background.W001",
            )
        ]
    return []
