"""The JWKS and the discovery document: public keys only, cacheable, and only what Roster does."""

from datetime import timedelta

import jwt
import pytest
from django.utils import timezone

from accounts.signing import services
from accounts.signing.keyring import keyring
from accounts.signing.models import SigningKey
from accounts.tests.factories import UserFactory
from accounts.tokens import issue_token_pair

pytestmark = pytest.mark.django_db

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


def test_jwks_lists_every_published_key_without_private_members(client, user, settings):
    issue_token_pair(user)
    pending = services.create_key(algorithm="EdDSA")
    response = client.get("/.well-known/jwks.json")
    keys = response.json()["keys"]

    assert response.status_code == 200
    assert response["Cache-Control"] == f"public, max-age={settings.JWKS_MAX_AGE}"
    assert {key["kid"] for key in keys} == set(SigningKey.objects.values_list("kid", flat=True))
    assert pending.kid in {key["kid"] for key in keys}  # published before it signs
    assert all(PRIVATE_MEMBERS.isdisjoint(key) for key in keys)
    assert {(key["kty"], key["alg"], key["use"]) for key in keys} == {
        ("EC", "ES256", "sig"),
        ("OKP", "EdDSA", "sig"),
    }


def test_a_token_verifies_with_the_jwks_alone(client, user, settings):
    token = issue_token_pair(user)["access"]
    keys = jwt.PyJWKSet.from_dict(client.get("/.well-known/jwks.json").json())
    kid = jwt.get_unverified_header(token)["kid"]

    claims = jwt.decode(
        token,
        keys[kid].key,
        algorithms=["ES256", "EdDSA"],
        audience=settings.JWT_AUDIENCE,
        issuer=settings.JWT_ISSUER,
    )
    assert claims["user_id"] == str(user.pk)


def test_a_retired_key_leaves_the_jwks(client, user):
    issue_token_pair(user)
    new = services.create_key(algorithm="ES256")
    SigningKey.objects.filter(pk=new.pk).update(
        created_at=timezone.now() - services.publication_delay() - timedelta(seconds=1)
    )
    _, old = services.rotate()
    superseded = {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}
    services.retire(kid=old.kid)
    retired = {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}

    assert superseded == {old.kid, new.kid}
    assert retired == {new.kid}


def test_openid_configuration_names_issuer_keys_endpoint_and_algorithms(client, user, settings):
    issue_token_pair(user)
    response = client.get("/.well-known/openid-configuration")

    assert response.status_code == 200
    assert response.json() == {
        "issuer": settings.JWT_ISSUER,
        "jwks_uri": f"{settings.SITE_URL}/.well-known/jwks.json",
        "token_endpoint": f"{settings.SITE_URL}/api/v1/auth/token/",
        "id_token_signing_alg_values_supported": ["ES256"],
    }


def test_the_well_known_documents_take_no_writes_and_no_database_query_when_cached(
    client, user, django_assert_num_queries
):
    issue_token_pair(user)
    keyring.published()
    with django_assert_num_queries(0):
        assert client.get("/.well-known/jwks.json").status_code == 200
    assert client.post("/.well-known/jwks.json").status_code == 405
    assert client.delete("/.well-known/openid-configuration").status_code == 405


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True, email_verified=True))
    return client


def test_the_admin_shows_keys_read_only_without_the_private_half(user, superuser_client):
    issue_token_pair(user)
    key = SigningKey.objects.get()
    listing = superuser_client.get("/admin/signing/signingkey/")
    detail = superuser_client.get(f"/admin/signing/signingkey/{key.pk}/change/")
    delete = superuser_client.post(f"/admin/signing/signingkey/{key.pk}/delete/", {"post": "yes"})

    assert listing.status_code == 200
    assert key.kid in listing.content.decode()
    assert detail.status_code == 200
    assert key.public_jwk["x"] in detail.content.decode()
    for page in (listing, detail):
        assert key.private_key_encrypted not in page.content.decode()
        assert "private" not in page.content.decode().lower()
    assert delete.status_code == 403
    assert SigningKey.objects.filter(pk=key.pk).exists()


def test_a_fresh_install_publishes_its_first_key_before_signing_anything(client, user):
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    token = issue_token_pair(user)["access"]

    assert [key["kid"] for key in keys] == [jwt.get_unverified_header(token)["kid"]]
