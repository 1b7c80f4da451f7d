"""`manage.py signing_keys`: the lifecycle, one-line errors, and never a private key on show."""

import io
import json
import logging
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from accounts.signing import crypto, services
from accounts.signing.models import SigningKey
from accounts.tokens import issue_token_pair

pytestmark = pytest.mark.django_db


def run(*args):
    out = io.StringIO()
    call_command("signing_keys", *args, stdout=out, stderr=out)
    return out.getvalue()


def private_material(key):
    """Every spelling of a key's private half that could leak: PEM, the JWK `d`, the ciphertext."""
    private_key = crypto.load_private_key(crypto.decrypt(key.private_key_encrypted))
    jwk = crypto.public_jwk(private_key, kid=key.kid, algorithm=key.algorithm)
    full = json.loads(
        (crypto.ECAlgorithm if key.algorithm == "ES256" else crypto.OKPAlgorithm).to_jwk(
            private_key
        )
    )
    pem = crypto.private_pem(private_key).decode()
    assert "d" not in jwk
    return [pem.splitlines()[1], full["d"], "PRIVATE KEY"]


def age(key):
    SigningKey.objects.filter(pk=key.pk).update(
        created_at=timezone.now() - services.publication_delay() - timedelta(seconds=1)
    )


def test_create_publishes_rotate_activates_and_list_shows_the_states(user):
    issue_token_pair(user)
    first = SigningKey.objects.get()
    created = run("create", "--algorithm", "EdDSA")
    new = SigningKey.objects.exclude(pk=first.pk).get()

    with pytest.raises(CommandError, match="may sign in"):
        run("rotate")  # not yet in every JWKS cache
    age(new)
    rotated = run("rotate")
    listing = run("list")

    assert f"Published EdDSA key {new.kid}" in created
    assert f"Key {new.kid} signs now. Key {first.kid} stays published until" in rotated
    assert f"{new.kid}" in listing and "signing" in listing and "superseded" in listing
    retired = run("retire", first.kid)
    assert "retired" in retired
    assert SigningKey.objects.get(pk=first.pk).state() == "retired"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rotate",), "no published key is waiting"),
        (("rotate", "--kid", "nope"), "no published, never-activated key"),
        (("retire", "nope"), "no signing key with kid 'nope'"),
    ],
)
def test_bad_requests_fail_with_one_line(user, args, message):
    issue_token_pair(user)
    with pytest.raises(CommandError, match=message) as error:
        run(*args)
    assert "\n" not in str(error.value)


def test_the_signing_key_cannot_be_retired_and_a_retired_one_not_twice(user):
    issue_token_pair(user)
    signing = SigningKey.objects.get()
    with pytest.raises(CommandError, match="is the signing key"):
        run("retire", signing.kid)
    new = services.create_key(algorithm="ES256")
    run("retire", new.kid)
    with pytest.raises(CommandError, match="already retired"):
        run("retire", new.kid)
    with pytest.raises(CommandError, match="no published, never-activated key"):
        run("rotate", "--kid", new.kid)  # a retired key never comes back


def test_an_unknown_algorithm_is_refused():
    with pytest.raises(CommandError, match="invalid choice: 'HS256'"):
        call_command("signing_keys", "create", "--algorithm", "HS256")
    assert not SigningKey.objects.exists()


def test_no_private_key_in_output_logs_responses_or_dumpdata(user, client, caplog):
    caplog.set_level(logging.DEBUG)
    tokens = issue_token_pair(user)
    new = services.create_key(algorithm="EdDSA")
    age(new)
    shown = [run("list"), run("rotate"), run("create"), run("list")]
    shown.append(client.get("/.well-known/jwks.json").content.decode())
    shown.append(client.get("/.well-known/openid-configuration").content.decode())
    shown.append(json.dumps(tokens))
    dump = io.StringIO()
    call_command("dumpdata", "signing", stdout=dump)
    everything = "\n".join([*shown, caplog.text, dump.getvalue()])

    for key in SigningKey.objects.all():
        for secret in private_material(key):
            assert secret not in everything
        assert key.private_key_encrypted in dump.getvalue()  # encrypted: useless without the key
        assert key.private_key_encrypted not in "\n".join([*shown, caplog.text])


def test_reencrypt_without_the_old_encryption_key_is_one_line_and_changes_nothing(user, settings):
    from cryptography.fernet import Fernet

    issue_token_pair(user)
    before = SigningKey.objects.get().private_key_encrypted
    settings.JWT_KEY_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]  # the old one dropped

    with pytest.raises(CommandError) as failure:
        run("reencrypt")

    message = str(failure.value)
    assert "no configured encryption key decrypts" in message and "\n" not in message
    assert SigningKey.objects.get().kid in message
    assert SigningKey.objects.get().private_key_encrypted == before
