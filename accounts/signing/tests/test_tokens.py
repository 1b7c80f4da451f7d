"""Tokens signed by the signing keys: kid, iss, aud, and every forgery the verifier refuses."""

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import jwt
import pytest
import time_machine
from cryptography.hazmat.primitives import serialization
from django.utils import timezone
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from accounts.signing import crypto, services
from accounts.signing.keyring import keyring
from accounts.signing.models import SigningKey
from accounts.tokens import issue_token_pair, rotate_refresh_token, verify_token

pytestmark = pytest.mark.django_db

ME = "/api/v1/users/me/"


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header, payload, key=b""):
    """A JWT with any header, signed (HMAC-SHA256 over `key`) when key is given, else unsigned."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest() if key else b""
    return f"{signing_input}.{_b64(signature)}"


def private_key_of(kid):
    row = SigningKey.objects.get(kid=kid)
    return crypto.load_private_key(crypto.decrypt(row.private_key_encrypted))


def me(api_client, token):
    return api_client.get(ME, HTTP_AUTHORIZATION=f"Bearer {token}")


def published_long_ago(key):
    SigningKey.objects.filter(pk=key.pk).update(
        created_at=timezone.now() - services.publication_delay() - timedelta(seconds=1)
    )


def test_access_token_names_its_key_issuer_and_audience(user, settings):
    tokens = issue_token_pair(user)
    header = jwt.get_unverified_header(tokens["access"])
    signing = SigningKey.objects.get(is_signing=True)
    claims = jwt.decode(
        tokens["access"],
        crypto.load_public_key(signing.public_jwk),
        algorithms=[signing.algorithm],
        audience=settings.JWT_AUDIENCE,
        issuer=settings.JWT_ISSUER,
    )

    assert header == {"alg": "ES256", "kid": signing.kid, "typ": "JWT"}
    assert claims["user_id"] == str(user.pk)


def test_the_first_key_is_created_once_on_first_use(user):
    issue_token_pair(user)
    keyring.clear()
    issue_token_pair(user)

    assert SigningKey.objects.count() == 1
    assert SigningKey.objects.get().state() == "signing"


def test_an_eddsa_key_signs_and_verifies(user, api_client):
    issue_token_pair(user)
    key = services.create_key(algorithm="EdDSA")
    published_long_ago(key)
    services.rotate()
    tokens = issue_token_pair(user)

    assert jwt.get_unverified_header(tokens["access"])["alg"] == "EdDSA"
    assert me(api_client, tokens["access"]).status_code == 200


@pytest.mark.parametrize("part", [0, 1, 2])
def test_a_tampered_token_is_refused(user, api_client, part):
    token = issue_token_pair(user)["access"]
    parts = token.split(".")
    if part == 1:
        claims = jwt.decode(token, options={"verify_signature": False})
        parts[1] = _b64(json.dumps({**claims, "user_id": "0" * 32}).encode())
    elif part == 0:
        parts[0] = _b64(json.dumps({"alg": "ES256", "kid": "other", "typ": "JWT"}).encode())
    else:
        parts[2] = parts[2][:-4] + ("AAAA" if not parts[2].endswith("AAAA") else "BBBB")
    response = me(api_client, ".".join(parts))

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def _claims_and_kid(user):
    token = issue_token_pair(user)["access"]
    return jwt.decode(token, options={"verify_signature": False}), jwt.get_unverified_header(token)[
        "kid"
    ]


def test_alg_none_and_hs256_keyed_with_public_key_or_secret_key_are_refused(
    user, api_client, settings
):
    claims, kid = _claims_and_kid(user)
    row = SigningKey.objects.get(kid=kid)
    public_pem = crypto.load_public_key(row.public_jwk).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    forgeries = [
        forge({"alg": "none", "kid": kid}, claims),
        forge({"alg": "NONE", "kid": kid}, claims),
        forge({"alg": "HS256", "kid": kid}, claims, public_pem),
        forge({"alg": "HS256", "kid": kid}, claims, json.dumps(row.public_jwk).encode()),
        forge({"alg": "HS256", "kid": kid}, claims, settings.SECRET_KEY.encode()),
        forge({"alg": "HS256"}, claims, settings.SECRET_KEY.encode()),  # a token of before
    ]

    assert [me(api_client, token).status_code for token in forgeries] == [401] * len(forgeries)
    assert not any(verify_token(token) for token in forgeries)


@pytest.mark.parametrize(
    "change",
    [{"aud": "https://other.example"}, {"iss": "https://other.example"}, {"aud": None}],
)
def test_wrong_audience_or_issuer_is_refused(user, api_client, change):
    claims, kid = _claims_and_kid(user)
    claims = {name: value for name, value in {**claims, **change}.items() if value is not None}
    token = jwt.encode(claims, private_key_of(kid), algorithm="ES256", headers={"kid": kid})

    assert me(api_client, token).status_code == 401


def test_expired_access_token_is_refused(user, api_client):
    token = issue_token_pair(user)["access"]
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        response = me(api_client, token)

    assert response.status_code == 401


@hsettings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    alg=st.sampled_from(["none", "HS256", "HS512", "RS256", "ES384", "EdDSA", "ES256", ""]),
    kid=st.one_of(st.none(), st.text(max_size=20), st.integers(), st.just("__real__")),
)
def test_no_header_spelling_gets_a_forged_token_accepted(user, api_client, alg, kid):
    claims, real_kid = _claims_and_kid(user)
    header = (
        {"alg": alg} if kid is None else {"alg": alg, "kid": real_kid if kid == "__real__" else kid}
    )
    token = forge(header, claims, b"forged-key")

    assert me(api_client, token).status_code == 401


def test_rotation_keeps_old_tokens_working_and_old_refresh_tokens_refreshing(user, api_client):
    before = issue_token_pair(user)
    old_kid = jwt.get_unverified_header(before["access"])["kid"]
    new = services.create_key(algorithm="ES256")
    published_long_ago(new)
    services.rotate()
    after = issue_token_pair(user)

    assert jwt.get_unverified_header(after["access"])["kid"] == new.kid
    assert me(api_client, before["access"]).status_code == 200
    refreshed = rotate_refresh_token(before["refresh"])
    assert jwt.get_unverified_header(refreshed["access"])["kid"] == new.kid
    assert SigningKey.objects.get(kid=old_kid).state() == "superseded"


def test_a_superseded_key_stops_verifying_once_its_last_token_expired(user, api_client, settings):
    before = issue_token_pair(user)
    new = services.create_key(algorithm="ES256")
    published_long_ago(new)
    _, old = services.rotate()
    keyring.clear()
    lifetime = services.token_lifetime()

    with time_machine.travel(timezone.now() + lifetime - timedelta(seconds=30)):
        assert rotate_refresh_token(before["refresh"])  # still within its lifetime
    with time_machine.travel(old.published_until + timedelta(seconds=1)):
        keyring.clear()
        assert not verify_token(before["refresh"])


def test_a_retired_keys_tokens_are_refused_at_once(user, api_client):
    before = issue_token_pair(user)
    new = services.create_key(algorithm="ES256")
    published_long_ago(new)
    _, old = services.rotate()
    services.retire(kid=old.kid)

    assert me(api_client, before["access"]).status_code == 401
    assert not verify_token(before["refresh"])
    assert me(api_client, issue_token_pair(user)["access"]).status_code == 200


def test_another_process_sees_a_rotation_within_the_cache_time(user, settings):
    new = services.create_key(algorithm="ES256")
    published_long_ago(new)
    issue_token_pair(user)  # this process reads the keys
    # Another server rotates: this process only learns from the database.
    SigningKey.objects.filter(is_signing=True).update(is_signing=False)
    SigningKey.objects.filter(pk=new.pk).update(is_signing=True, activated_at=timezone.now())

    still_cached = jwt.get_unverified_header(issue_token_pair(user)["access"])["kid"]
    keyring._loaded_at -= settings.SIGNING_KEYS_CACHE_SECONDS
    reloaded = jwt.get_unverified_header(issue_token_pair(user)["access"])["kid"]

    assert still_cached != new.kid
    assert reloaded == new.kid


def test_secret_key_rotation_does_not_touch_tokens(user, api_client, settings):
    tokens = issue_token_pair(user)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-brand-new-secret-key-" + "x" * 40
    keyring.clear()

    assert me(api_client, tokens["access"]).status_code == 200
    assert services.reencrypt_all() == 1
    settings.SECRET_KEY_FALLBACKS = []
    keyring.clear()
    assert me(api_client, tokens["access"]).status_code == 200
    assert rotate_refresh_token(tokens["refresh"])


def test_explicit_encryption_keys_encrypt_and_the_old_derivation_still_decrypts(user, settings):
    from cryptography.fernet import Fernet

    issue_token_pair(user)
    row = SigningKey.objects.get()
    settings.JWT_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(crypto.KeyDecryptionError):
        crypto.decrypt(row.private_key_encrypted)


def test_only_one_key_signs_at_a_time_even_when_two_processes_race(user):
    from django.db import IntegrityError, transaction

    issue_token_pair(user)
    with pytest.raises(IntegrityError), transaction.atomic():
        services.create_key(algorithm="ES256", activate=True)  # what a losing racer would do
    assert SigningKey.objects.filter(is_signing=True).count() == 1
