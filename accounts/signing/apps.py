from django.apps import AppConfig


class SigningConfig(AppConfig):
    """Asymmetric JWT signing keys, their JWKS and their rotation."""

    name = "accounts.signing"
    label = "signing"
    verbose_name = "Signing keys"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from rest_framework_simplejwt.tokens import Token

        from accounts.signing.backends import SigningKeyTokenBackend

        # SimpleJWT has no setting for its backend class; every Token (access, refresh, untyped)
        # reads this class attribute before falling back to its HS256 `state.token_backend`.
        Token._token_backend = SigningKeyTokenBackend()
