from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"


class RosterAdminConfig(admin_apps.AdminConfig):
    """Django's admin app with Roster's site: the login is throttled like the API's."""

    default = False  # named explicitly in INSTALLED_APPS; "accounts" stays AccountsConfig
    default_site = "accounts.admin_site.RosterAdminSite"
