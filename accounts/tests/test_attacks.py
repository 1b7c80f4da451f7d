"""Attacks on authorization and authentication that once worked, kept as regressions."""

import time

import pytest
import time_machine
from django.test import Client

from accounts.tests.factories import UserFactory
from accounts.tests.test_admin import change_data
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def test_a_stale_admin_session_cannot_grant_superuser_status(user):
    boss = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    client = Client()
    client.post("/admin/login/", {"username": boss.email, "password": PASSWORD})
    change = f"/admin/accounts/user/{user.pk}/change/"

    with time_machine.travel(time.time() + 11 * 60):
        late = client.post(change, change_data(user, is_superuser="on"), follow=True)

    user.refresh_from_db()
    assert not user.is_superuser
    assert "needs a recent login" in late.content.decode()


def test_a_browser_login_waiting_for_its_second_factor_dies_with_a_password_change():
    import pyotp

    from accounts import services
    from accounts.mfa.tests.test_login_pages import CLIENT, admin_password_step, with_totp

    boss = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    secret = with_totp(boss)
    attacker = Client()
    assert admin_password_step(attacker, boss).status_code == 302  # the phished password
    services.password_change(
        user=boss, current_password=PASSWORD, new_password="another-Long-passw0rd", client=CLIENT
    )

    late = attacker.post("/accounts/login/verify/", {"code": pyotp.TOTP(secret).now()})

    assert late.status_code == 400
    assert attacker.get("/admin/").status_code == 302  # not signed in


def test_a_browser_login_waiting_for_its_second_factor_dies_with_a_deactivation():
    """Staff deactivating a phished account end every pending login, in the API (its
    mfa_token) and in the browser alike, and reactivating it revives none."""
    import pyotp

    from accounts import services
    from accounts.mfa.tests.test_login_pages import admin_password_step, with_totp

    boss = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    other_boss = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    secret = with_totp(boss)
    attacker = Client()
    assert admin_password_step(attacker, boss).status_code == 302  # the phished password
    services.user_deactivate(actor=other_boss, user=boss)
    services.user_reactivate(actor=other_boss, user=boss)

    late = attacker.post("/accounts/login/verify/", {"code": pyotp.TOTP(secret).now()})

    assert late.status_code == 400
    assert attacker.get("/admin/").status_code == 302  # not signed in


def test_a_refused_admin_login_of_a_non_staff_user_is_not_recorded_as_a_login(user):
    from accounts.audit.models import SecurityEvent

    response = Client().post("/admin/login/", {"username": user.email, "password": PASSWORD})

    assert response.status_code == 200  # the form again: staff only
    user.refresh_from_db()
    assert user.last_login is None
    assert not SecurityEvent.objects.filter(type="login_succeeded").exists()


def test_signed_in_as_myself_my_guesses_at_anothers_second_factor_lock_their_account(user):
    """The signed-in session counts as a device only for its own user's secrets."""
    from accounts.mfa.tests.test_login_pages import admin_password_step, with_totp

    boss = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    with_totp(boss)
    attacker = Client()
    attacker.force_login(user)  # a session of the attacker's own account
    assert admin_password_step(attacker, boss).status_code == 302  # the phished password

    answers = [
        attacker.post("/accounts/login/verify/", {"code": "000000"}).status_code for _ in range(11)
    ]

    assert answers == [400] * 10 + [429]
    stranger = Client()
    assert admin_password_step(stranger, boss).status_code == 429  # the account is locked
