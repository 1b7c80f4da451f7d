"""The public face of the signing keys: the JWKS and the discovery document. No database query:
both come from the process's keyring."""

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse
from django.views.decorators.http import require_safe

from accounts.signing.keyring import keyring


def _public(response):
    response["Cache-Control"] = f"public, max-age={settings.JWKS_MAX_AGE}"
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def jwks(request):
    """Every published public key: the signing one, the next one, and superseded ones."""
    keyring.signing_key()  # a fresh install publishes its first key before anything is signed
    return _public(JsonResponse({"keys": [key.jwk for key in keyring.published()]}))


@require_safe
def openid_configuration(request):
    """Where the keys are and who signs; Roster issues access tokens only (no OAuth flows)."""
    algorithms = sorted({key.algorithm for key in keyring.published()})
    return _public(
        JsonResponse(
            {
                "issuer": settings.JWT_ISSUER,
                "jwks_uri": settings.SITE_URL + reverse("jwks"),
                "token_endpoint": settings.SITE_URL + reverse("api:token"),
                "id_token_signing_alg_values_supported": algorithms,
            }
        )
    )
