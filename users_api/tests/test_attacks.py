"""Attacks on the API's authentication that once worked, kept as regressions."""

import pytest
from rest_framework.test import APIClient

from conftest import PASSWORD, bearer_client

AUTH = "/api/v1/auth/"
WRONG = "wrong-password-1234"
pytestmark = pytest.mark.django_db


def lock_out(user):
    """A stranger (no device credential, no session) spends the account's failures."""
    stranger = APIClient(REMOTE_ADDR="203.0.113.9")
    for _ in range(11):
        stranger.post(f"{AUTH}token/", {"email": user.email, "password": WRONG})
    locked = APIClient().post(f"{AUTH}token/", {"email": user.email, "password": PASSWORD})
    assert locked.status_code == 429


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("post", "password/change/", {"new_password": "another-Long-passw0rd"}, 204),
        ("post", "reauthenticate/", {}, 200),
    ],
)
def test_a_stranger_cannot_stop_a_signed_in_app_confirming_its_password(
    user, method, path, body, expected
):
    signed_in = bearer_client(user)  # an app holding tokens, without a cookie jar
    lock_out(user)
    password_field = "current_password" if path == "password/change/" else "password"

    response = getattr(signed_in, method)(f"{AUTH}{path}", {**body, password_field: PASSWORD})

    assert response.status_code == expected, response.content


def test_a_signed_in_session_still_gets_only_ten_wrong_passwords(user):
    signed_in = bearer_client(user)  # e.g. a stolen access token
    answers = [
        signed_in.post(f"{AUTH}reauthenticate/", {"password": WRONG}).status_code for _ in range(11)
    ]

    assert answers == [400] * 10 + [429]
    assert signed_in.post(f"{AUTH}reauthenticate/", {"password": PASSWORD}).status_code == 429


@pytest.mark.parametrize("change", ["password change", "deactivation"])
def test_an_mfa_token_dies_when_the_password_changes_or_the_account_is_deactivated(
    user, staff, change
):
    import pyotp

    from users_api.tests.test_mfa import enable_totp, password_login

    owner = bearer_client(user)
    secret, _ = enable_totp(owner)
    mfa_token = password_login(user).json()["mfa_token"]  # an attacker who phished the password
    if change == "password change":
        answer = owner.post(
            f"{AUTH}password/change/",
            {"current_password": PASSWORD, "new_password": "another-Long-passw0rd"},
        )
        assert answer.status_code == 204
    else:
        assert bearer_client(staff).delete(f"/api/v1/users/{user.pk}/").status_code == 204
        assert (
            bearer_client(staff).patch(f"/api/v1/users/{user.pk}/", {"is_active": True}).status_code
            == 200
        )

    late = APIClient().post(
        f"{AUTH}mfa/verify/", {"mfa_token": mfa_token, "code": pyotp.TOTP(secret).now()}
    )

    assert late.status_code == 401
    assert late.json()["code"] == "mfa_token_invalid"


@pytest.mark.parametrize("i_click_the_verification_link_first", [False, True])
def test_a_squatter_who_registered_my_address_keeps_no_way_in_once_i_reset_the_password(
    i_click_the_verification_link_first,
):
    """Account pre-hijacking: someone registers my address before I do (it stays unverified:
    the link comes to me), adds a passkey and TOTP, and waits. When I claim the account with a
    password reset (the link proves the mailbox is mine), nothing the squatter set up may stay,
    even if I clicked the verification link they made Roster send me."""
    from accounts.links import email_verification_tokens, encode_uid, password_reset_tokens
    from accounts.models import User
    from users_api.tests.test_mfa import assertion, enable_totp, register_passkey

    squatter = APIClient()
    mine, theirs = "me@example.org", "squatters-Long-passw0rd"
    assert squatter.post(f"{AUTH}register/", {"email": mine, "password": theirs}).status_code == 201
    tokens = squatter.post(f"{AUTH}token/", {"email": mine, "password": theirs}).json()
    squatter.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    authenticator, _ = register_passkey(squatter)
    enable_totp(squatter)

    me = User.objects.get(email=mine)
    if i_click_the_verification_link_first:
        link = {"uid": encode_uid(me), "token": email_verification_tokens.make_token(me)}
        assert APIClient().post(f"{AUTH}email/verify/", link).status_code == 204
        me.refresh_from_db()
    reset = APIClient().post(
        f"{AUTH}password/reset/confirm/",
        {
            "uid": encode_uid(me),
            "token": password_reset_tokens.make_token(me),
            "new_password": "my-own-Long-passw0rd",
        },
    )
    assert reset.status_code == 204

    comeback = APIClient().post(f"{AUTH}passkeys/login/", {"credential": assertion(authenticator)})
    assert comeback.status_code == 401
    login = APIClient().post(f"{AUTH}token/", {"email": mine, "password": "my-own-Long-passw0rd"})
    assert login.status_code == 200, login.json()  # no second factor of theirs stands in my way
    me.refresh_from_db()
    assert me.email_verified  # the reset link proved the mailbox


def test_a_reset_of_a_proven_address_keeps_its_owners_second_factor(user):
    from accounts.links import encode_uid, password_reset_tokens
    from accounts.models import User
    from users_api.tests.test_mfa import enable_totp

    User.objects.filter(pk=user.pk).update(email_verified=True)  # verified before, by its link
    enable_totp(bearer_client(user))
    user.refresh_from_db()
    new = "another-Long-passw0rd"
    body = {"uid": encode_uid(user), "token": password_reset_tokens.make_token(user)}
    reset = APIClient().post(f"{AUTH}password/reset/confirm/", {**body, "new_password": new})
    assert reset.status_code == 204

    login = APIClient().post(f"{AUTH}token/", {"email": user.email, "password": new})

    assert login.status_code == 401 and login.json()["code"] == "mfa_required"
