from django.apps import AppConfig


class UserSessionsConfig(AppConfig):
    name = "accounts.usersessions"
    label = "usersessions"
    verbose_name = "Sessions"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts.usersessions import browser  # noqa: F401 - connects the login signals
