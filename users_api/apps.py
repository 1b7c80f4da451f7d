from django.apps import AppConfig


class UsersApiConfig(AppConfig):
    name = "users_api"
    verbose_name = "Users API"
