from django.apps import AppConfig


class EmailChangeConfig(AppConfig):
    name = "accounts.emailchange"
    label = "emailchange"
    verbose_name = "Email changes"
    default_auto_field = "django.db.models.BigAutoField"
