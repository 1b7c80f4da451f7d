from django.apps import AppConfig


class MfaConfig(AppConfig):
    name = "accounts.mfa"
    label = "mfa"
    verbose_name = "Second factors and passkeys"
    default_auto_field = "django.db.models.BigAutoField"
