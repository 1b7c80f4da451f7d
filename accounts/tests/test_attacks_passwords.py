"""Attacks with the password itself: over-long ones at every entry point that hashes or sets one."""

import pytest
from django.contrib.auth.hashers import MD5PasswordHasher
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from accounts import policy, services
from accounts.models import MAX_PASSWORD_LENGTH
from accounts.tests.factories import UserFactory
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

TOO_LONG = "correct horse battery " * (2 * 1024 * 1024 // 22)  # about 2 MB
LOGINS = ["/api-auth/login/", "/admin/login/"]


@pytest.fixture
def hashed(monkeypatch):
    """The lengths of the passwords the (real) hasher was given."""
    lengths = []
    encode = MD5PasswordHasher.encode

    def counting(self, password, salt):
        lengths.append(len(password))
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counting)
    return lengths


@pytest.mark.parametrize("url", LOGINS)
def test_an_over_long_password_is_refused_at_the_login_pages_without_hashing(client, url, hashed):
    user = UserFactory(is_staff=True, is_superuser=True)
    hashed.clear()
    response = client.post(url, {"username": user.email, "password": TOO_LONG})
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    assert "_auth_user_id" not in client.session
    assert all(length <= MAX_PASSWORD_LENGTH for length in hashed)
    # The right password still opens the page afterwards.
    response = client.post(url, {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302


def test_the_admin_password_change_does_not_hash_an_over_long_current_password(client, hashed):
    user = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(user)
    hashed.clear()
    long = TOO_LONG[: len(TOO_LONG) // 4]  # three of them fit in one request body
    response = client.post(
        "/admin/password_change/",
        {"old_password": long, "new_password1": long, "new_password2": long},
    )
    assert response.status_code == 200
    assert all(length <= MAX_PASSWORD_LENGTH for length in hashed)
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


@pytest.mark.parametrize("length", [MAX_PASSWORD_LENGTH + 1, len(TOO_LONG)])
def test_no_entry_point_sets_a_password_longer_than_the_bound(length):
    password = ("x7Qp" * length)[:length]
    user = UserFactory()
    with pytest.raises(ValidationError):
        validate_password(password, user)  # changepassword, createsuperuser, import_users
    with pytest.raises(ValidationError):
        services.password_set(
            actor=policy.OPERATOR, user=user, password=password, entry=policy.Entry.COMMAND
        )
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_a_password_at_the_bound_is_still_accepted():
    password = ("x7Qp" * MAX_PASSWORD_LENGTH)[:MAX_PASSWORD_LENGTH]
    validate_password(password, UserFactory())


@pytest.mark.parametrize("password", ["correct horse\ud800battery", "\udfff" * 12])
def test_a_password_with_a_lone_surrogate_is_refused_and_never_hashed(password):
    from accounts import login_gate

    user = UserFactory()
    with pytest.raises(ValidationError):
        validate_password(password, user)
    with pytest.raises(login_gate.WrongCredentials):
        login_gate.authenticate(
            client=login_gate.Client(ip="203.0.113.9"), email=user.email, password=password
        )
    with pytest.raises(login_gate.WrongCredentials):
        login_gate.verify_password(
            client=login_gate.Client(ip="203.0.113.9"), user=user, password=password
        )
