"""The browser logins (admin, browsable API) with a second factor, and the operator's reset."""

import json
import time

import pyotp
import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client

from accounts import login_gate
from accounts.mfa import services as mfa
from accounts.mfa.models import Passkey, RecoveryCode, TOTPDevice
from accounts.mfa.tests.authenticator import SoftAuthenticator
from accounts.tests.factories import UserFactory
from conftest import PASSWORD

VERIFY = "/accounts/login/verify/"
CLIENT = login_gate.Client(ip="192.0.2.9")
pytestmark = pytest.mark.django_db


def with_totp(user):
    secret = mfa.totp_begin(user=user)["secret"]
    mfa.totp_confirm(user=user, code=pyotp.TOTP(secret).at(time.time() - 30), client=CLIENT)
    return secret


def with_passkey(user):
    authenticator = SoftAuthenticator()
    options = mfa.passkey_registration_options(user=user)
    mfa.passkey_register(user=user, credential=authenticator.create(options), name="Key")
    return authenticator


@pytest.fixture
def boss(db):
    return UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)


def admin_password_step(client, account):
    return client.post(
        "/admin/login/?next=/admin/accounts/user/",
        {"username": account.email, "password": PASSWORD},
    )


def test_admin_login_of_staff_with_totp_waits_for_the_code(boss):
    secret = with_totp(boss)
    client = Client()

    first = admin_password_step(client, boss)
    assert first.status_code == 302 and first["Location"] == VERIFY
    assert client.get("/admin/").status_code == 302  # not logged in yet
    assert "roster_device" not in first.cookies

    page = client.get(VERIFY)
    assert page.status_code == 200 and b"authenticator app" in page.content
    wrong = client.post(VERIFY, {"code": "000000"})
    assert wrong.status_code == 400
    right = client.post(VERIFY, {"code": pyotp.TOTP(secret).now()})

    assert right.status_code == 302 and right["Location"] == "/admin/accounts/user/"
    assert client.get("/admin/").status_code == 200
    assert "roster_device" in right.cookies


def test_admin_second_step_with_a_passkey(boss):
    authenticator = with_passkey(boss)
    client = Client()
    admin_password_step(client, boss)
    assert b"use-passkey" in client.get(VERIFY).content

    credential = authenticator.get(mfa.passkey_authentication_options())
    response = client.post(VERIFY, {"credential": json.dumps(credential)})

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_the_second_step_without_a_password_step_is_refused(boss):
    secret = with_totp(boss)

    client = Client()
    response = client.post(VERIFY, {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_the_second_step_counts_failures_in_the_login_gate(boss, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login_failures": "2/15m"}
    secret = with_totp(boss)
    client = Client()
    admin_password_step(client, boss)

    client.post(VERIFY, {"code": "000000"})
    client.post(VERIFY, {"code": "000001"})
    locked = client.post(VERIFY, {"code": pyotp.TOTP(secret).now()})

    assert locked.status_code == 429 and "Retry-After" in locked
    assert client.get("/admin/").status_code == 302


def test_the_second_step_expires(boss):
    secret = with_totp(boss)
    client = Client()
    admin_password_step(client, boss)

    with time_machine.travel(time.time() + 301):
        response = client.post(VERIFY, {"code": pyotp.TOTP(secret).now()})

    assert response.status_code == 400


def test_the_browsable_api_login_has_the_second_step_too(user):
    with_totp(user)
    client = Client()

    response = client.post("/api-auth/login/", {"username": user.email, "password": PASSWORD})

    assert response["Location"] == VERIFY
    assert client.get("/api/v1/users/me/", HTTP_ACCEPT="application/json").status_code in (401, 403)


def test_staff_without_a_second_factor_log_in_with_the_password(boss):
    response = admin_password_step(Client(), boss)

    assert response["Location"] == "/admin/accounts/user/"


def test_the_admin_shows_a_users_factors(boss, user):
    with_totp(user)
    with_passkey(user)
    client = Client()
    client.force_login(boss)

    page = client.get(f"/admin/accounts/user/{user.pk}/change/").content.decode()

    assert "TOTP, passkey “Key”; 10 recovery codes left" in page


def reset(operator, *users):
    client = Client()
    client.force_login(operator)
    return client.post(
        "/admin/accounts/user/",
        {"action": "reset_second_factors", "_selected_action": [str(u.pk) for u in users]},
        follow=True,
    )


def test_staff_reset_an_ordinary_users_factors_not_a_superusers(db, boss, user):
    staff = UserFactory(password=PASSWORD, is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["change_user", "view_user"]))
    with_totp(user)
    with_passkey(boss)

    reset(staff, user, boss)

    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert Passkey.objects.filter(user=boss).exists()  # a superuser's: superusers only
    assert mfa.has_second_factor(boss)


def test_a_superuser_resets_another_superusers_factors(db, boss):
    other = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    with_passkey(other)

    reset(boss, other)

    assert not mfa.has_second_factor(other)
