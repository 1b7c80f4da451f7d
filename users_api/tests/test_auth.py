"""The auth/ rows of the contract, end to end through the real email backend (locmem)."""

import datetime as dt
import re

import pytest
import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from rest_framework.test import APIClient

from accounts.models import RefreshTokenReuse, User
from accounts.tests.factories import UserFactory
from conftest import USER_SHAPE

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another-Long-passw0rd"


def link_parts(message, kind):
    """The uid and token of the link in an email (`kind` is `password/reset` or `email/verify`)."""
    match = re.search(rf"/accounts/{kind}/([^/\s]+)/([^/\s]+)/", message.body)
    assert match, message.body
    return {"uid": match[1], "token": match[2]}


def login(client, email, password):
    return client.post("/api/v1/auth/token/", {"email": email, "password": password})


def bearer(access):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


# --- register -> verify -----------------------------------------------------------------------


def test_register_creates_an_unverified_user_and_sends_the_verification_email(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "New@Example.COM", "password": NEW_PASSWORD, "first_name": "Ada"},
    )

    assert response.status_code == 201
    body = response.json()
    assert set(body) == USER_SHAPE
    assert body["email"] == "new@example.com"
    assert body["email_verified"] is False and body["is_staff"] is False
    user = User.objects.get(pk=body["id"])
    assert user.check_password(NEW_PASSWORD) and user.first_name == "Ada"
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new@example.com"]
    assert "http://localhost:8000/accounts/email/verify/" in mail.outbox[0].body
    assert mail.outbox[0].alternatives[0][1] == "text/html"


def test_register_refuses_an_email_taken_in_another_case(api_client, user):
    response = api_client.post(
        "/api/v1/auth/register/", {"email": user.email.upper(), "password": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert "email" in response.json()["errors"]
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "why"),
    [("short-pw1", "too short"), ("password1234", "too common"), ("12345678901234", "numeric")],
)
def test_register_applies_the_password_validators(api_client, password, why):
    response = api_client.post(
        "/api/v1/auth/register/", {"email": "a@example.com", "password": password}
    )

    assert response.status_code == 400, why
    assert response.json()["errors"]["password"]
    assert not User.objects.exists()


def test_register_ignores_privileged_fields(api_client):
    response = api_client.post(
        "/api/v1/auth/register/",
        {
            "email": "a@example.com",
            "password": NEW_PASSWORD,
            "is_staff": True,
            "email_verified": True,
        },
    )

    assert response.status_code == 201
    user = User.objects.get()
    assert not user.is_staff and not user.email_verified and not user.is_superuser


def test_verification_link_verifies_once(api_client):
    api_client.post("/api/v1/auth/register/", {"email": "a@example.com", "password": NEW_PASSWORD})
    parts = link_parts(mail.outbox[0], "email/verify")

    first = api_client.post("/api/v1/auth/email/verify/", parts)
    second = api_client.post("/api/v1/auth/email/verify/", parts)

    assert first.status_code == 204
    assert User.objects.get().email_verified is True
    assert second.status_code == 400
    assert "token" in second.json()["errors"]


def test_verification_link_expires(api_client, settings):
    api_client.post("/api/v1/auth/register/", {"email": "a@example.com", "password": NEW_PASSWORD})
    parts = link_parts(mail.outbox[0], "email/verify")

    later = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT + 60)
    with time_machine.travel(later, tick=False):
        response = api_client.post("/api/v1/auth/email/verify/", parts)

    assert response.status_code == 400
    assert User.objects.get().email_verified is False


@pytest.mark.parametrize(
    "parts",
    [
        {"uid": "bm9wZQ", "token": "abc-def"},
        {"uid": "!!!", "token": "x"},
        {"uid": "", "token": ""},
    ],
)
def test_verify_with_a_bad_link_is_400(api_client, user, parts):
    response = api_client.post("/api/v1/auth/email/verify/", parts)

    assert response.status_code == 400


def test_resend_needs_authentication_and_sends_a_working_link(api_client, auth_client, user):
    assert api_client.post("/api/v1/auth/email/resend/").status_code == 401

    response = auth_client.post("/api/v1/auth/email/resend/")

    assert response.status_code == 202
    assert len(mail.outbox) == 1
    verify = api_client.post(
        "/api/v1/auth/email/verify/", link_parts(mail.outbox[0], "email/verify")
    )
    assert verify.status_code == 204
    user.refresh_from_db()
    assert user.email_verified


# --- token, refresh, verify, logout -----------------------------------------------------------


def test_login_gives_a_working_pair_and_records_last_login(api_client, user, password):
    response = login(api_client, user.email.upper(), password)

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
    me = bearer(response.json()["access"]).get("/api/v1/users/me/")
    assert me.status_code == 200 and me.json()["id"] == str(user.pk)
    user.refresh_from_db()
    assert user.last_login is not None


def test_wrong_password_unknown_email_and_inactive_account_answer_the_same_401(
    api_client, user, password
):
    inactive = UserFactory(password=password, is_active=False)

    answers = [
        login(api_client, user.email, "not the password"),
        login(api_client, "nobody@example.com", password),
        login(api_client, inactive.email, password),
    ]

    assert {r.status_code for r in answers} == {401}
    assert len({r.content for r in answers}) == 1
    assert all(r["WWW-Authenticate"].startswith("Bearer") for r in answers)


class CountingHasher(MD5PasswordHasher):
    """Counts password hash computations: the time a login takes is the hash time."""

    algorithm = "counting_md5"
    runs = 0

    def encode(self, password, salt):
        CountingHasher.runs += 1
        return super().encode(password, salt)


def test_every_failed_login_costs_one_password_hash_like_a_good_one(api_client, settings, password):
    settings.PASSWORD_HASHERS = ["users_api.tests.test_auth.CountingHasher"]
    good = UserFactory(password=password)
    inactive = UserFactory(password=password, is_active=False)
    attempts = {
        "right password": (good.email, password),
        "wrong password": (good.email, "not the password"),
        "unknown email": ("nobody@example.com", password),
        "inactive account": (inactive.email, password),
    }

    for name, (email, secret) in attempts.items():
        CountingHasher.runs = 0
        login(api_client, email, secret)
        assert CountingHasher.runs == 1, name


def test_refresh_rotates_and_the_old_refresh_token_is_refused(api_client, user, password):
    pair = login(api_client, user.email, password).json()

    rotated = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    reused = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})

    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != pair["refresh"]
    assert reused.status_code == 401


def test_reusing_a_rotated_refresh_token_ends_its_whole_session(api_client, user, password):
    stolen = login(api_client, user.email, password).json()["refresh"]
    other_device = login(api_client, user.email, password).json()["refresh"]
    fresh = api_client.post("/api/v1/auth/token/refresh/", {"refresh": stolen}).json()

    reuse = api_client.post("/api/v1/auth/token/refresh/", {"refresh": stolen})

    assert reuse.status_code == 401
    assert RefreshTokenReuse.objects.get().user == user
    # the family's newest refresh and access tokens die with it
    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": fresh["refresh"]})
    assert response.status_code == 401
    me = api_client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {fresh['access']}")
    assert me.status_code == 401
    # another login's session is another family: it lives on
    response = api_client.post("/api/v1/auth/token/refresh/", {"refresh": other_device})
    assert response.status_code == 200


def test_verify_accepts_a_live_token_and_refuses_garbage(api_client, user, password):
    pair = login(api_client, user.email, password).json()

    assert api_client.post("/api/v1/auth/token/verify/", {"token": pair["access"]}).json() == {}
    bad = api_client.post("/api/v1/auth/token/verify/", {"token": pair["access"] + "x"})
    assert bad.status_code == 401


def test_logout_blacklists_the_refresh_token(api_client, user, password):
    pair = login(api_client, user.email, password).json()

    response = api_client.post("/api/v1/auth/logout/", {"refresh": pair["refresh"]})

    assert response.status_code == 204
    refresh = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    assert refresh.status_code == 401
    verify = api_client.post("/api/v1/auth/token/verify/", {"token": pair["refresh"]})
    assert verify.status_code == 401


def test_logout_with_an_invalid_token_is_401(api_client):
    response = api_client.post("/api/v1/auth/logout/", {"refresh": "not.a.token"})

    assert response.status_code == 401


def test_access_token_expires_after_its_lifetime(api_client, user, password):
    access = login(api_client, user.email, password).json()["access"]

    later = dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=6)
    with time_machine.travel(later, tick=False):
        response = bearer(access).get("/api/v1/users/me/")

    assert response.status_code == 401


# --- password change and reset -----------------------------------------------------------------


def test_password_change_kills_every_earlier_token(api_client, user, password):
    pair = login(api_client, user.email, password).json()
    client = bearer(pair["access"])

    response = client.post(
        "/api/v1/auth/password/change/",
        {"current_password": password, "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 204
    assert client.get("/api/v1/users/me/").status_code == 401
    refresh = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    assert refresh.status_code == 401
    verify = api_client.post("/api/v1/auth/token/verify/", {"token": pair["access"]})
    assert verify.status_code == 401
    assert login(api_client, user.email, password).status_code == 401
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200


def test_password_change_needs_the_current_password(auth_client, user, password):
    response = auth_client.post(
        "/api/v1/auth/password/change/",
        {"current_password": "wrong-password-here", "new_password": NEW_PASSWORD},
    )

    assert response.status_code == 400
    assert "current_password" in response.json()["errors"]
    user.refresh_from_db()
    assert user.check_password(password)


def test_password_change_validates_the_new_password(auth_client, user, password):
    response = auth_client.post(
        "/api/v1/auth/password/change/", {"current_password": password, "new_password": "short"}
    )

    assert response.status_code == 400
    assert "new_password" in response.json()["errors"]


def test_password_reset_answers_the_same_whether_or_not_the_account_exists(api_client, user):
    known = api_client.post("/api/v1/auth/password/reset/", {"email": user.email.upper()})
    unknown = api_client.post("/api/v1/auth/password/reset/", {"email": "nobody@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.content == unknown.content
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]


def test_password_reset_flow_sets_the_password_once_and_kills_old_tokens(
    api_client, user, password
):
    pair = login(api_client, user.email, password).json()
    api_client.post("/api/v1/auth/password/reset/", {"email": user.email})
    parts = link_parts(mail.outbox[0], "password/reset")

    confirm = api_client.post(
        "/api/v1/auth/password/reset/confirm/", {**parts, "new_password": NEW_PASSWORD}
    )
    again = api_client.post(
        "/api/v1/auth/password/reset/confirm/", {**parts, "new_password": "yet-another-passw0rd"}
    )

    assert confirm.status_code == 204
    assert again.status_code == 400
    assert login(api_client, user.email, password).status_code == 401
    assert login(api_client, user.email, NEW_PASSWORD).status_code == 200
    assert bearer(pair["access"]).get("/api/v1/users/me/").status_code == 401
    refresh = api_client.post("/api/v1/auth/token/refresh/", {"refresh": pair["refresh"]})
    assert refresh.status_code == 401


def test_password_reset_confirm_validates_the_new_password_and_keeps_the_link(
    api_client, user, password
):
    api_client.post("/api/v1/auth/password/reset/", {"email": user.email})
    parts = link_parts(mail.outbox[0], "password/reset")

    weak = api_client.post("/api/v1/auth/password/reset/confirm/", {**parts, "new_password": "x"})

    assert weak.status_code == 400
    assert "new_password" in weak.json()["errors"]
    user.refresh_from_db()
    assert user.check_password(password)
    ok = api_client.post(
        "/api/v1/auth/password/reset/confirm/", {**parts, "new_password": NEW_PASSWORD}
    )
    assert ok.status_code == 204


def test_password_reset_sends_nothing_for_an_inactive_account(api_client, password):
    inactive = UserFactory(password=password, is_active=False)

    response = api_client.post("/api/v1/auth/password/reset/", {"email": inactive.email})

    assert response.status_code == 202
    assert mail.outbox == []


def test_reuse_records_the_client_address_behind_a_declared_proxy(
    api_client, user, password, settings
):
    settings.NUM_PROXIES = 1
    stolen = login(api_client, user.email, password).json()["refresh"]
    api_client.post("/api/v1/auth/token/refresh/", {"refresh": stolen})

    api_client.post(
        "/api/v1/auth/token/refresh/",
        {"refresh": stolen},
        HTTP_X_FORWARDED_FOR="203.0.113.5",
        REMOTE_ADDR="10.0.0.2",  # the proxy
    )

    assert RefreshTokenReuse.objects.get().ip_address == "203.0.113.5"
