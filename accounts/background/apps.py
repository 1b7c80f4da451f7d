from django.apps import AppConfig


class BackgroundConfig(AppConfig):
    """Background work: the tasks Roster runs outside requests (every email), and the mail the
    worker gave up on."""

    name = "accounts.background"
    label = "background"
    verbose_name = "Background work"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts.background import checks  # noqa: F401 - registers the deploy check
