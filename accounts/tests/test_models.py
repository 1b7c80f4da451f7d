import pytest
from django.contrib.auth import authenticate
from django.db import IntegrityError

from accounts.models import User


@pytest.mark.django_db
def test_create_user_normalises_the_domain_and_hashes_the_password():
    user = User.objects.create_user(email="Ada@EXAMPLE.com", password="a-Long-enough-passw0rd")

    user.refresh_from_db()
    assert user.email == "ada@example.com"
    assert user.password != "a-Long-enough-passw0rd"
    assert user.check_password("a-Long-enough-passw0rd")
    assert user.is_active and not user.is_staff and not user.is_superuser
    assert not user.email_verified
    assert len(str(user.pk)) == 36  # a UUID, not a sequence


@pytest.mark.django_db
def test_the_database_refuses_the_same_email_in_another_case():
    User.objects.create_user(email="ada@example.com", password="x")

    with pytest.raises(IntegrityError):
        User.objects.create_user(email="ADA@example.COM", password="x")


@pytest.mark.django_db
def test_create_superuser_is_staff_superuser_and_verified():
    admin = User.objects.create_superuser(email="root@example.com", password="x")

    assert admin.is_staff and admin.is_superuser and admin.email_verified


@pytest.mark.django_db
def test_create_superuser_refuses_is_staff_false():
    with pytest.raises(ValueError, match="is_staff"):
        User.objects.create_superuser(email="root@example.com", password="x", is_staff=False)


@pytest.mark.django_db
def test_create_user_requires_an_email():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user(email="", password="x")


@pytest.mark.django_db
def test_login_by_email_ignores_case(user, password):
    assert authenticate(email=user.email.upper(), password=password) == user
    assert authenticate(email=user.email, password="wrong password!") is None


@pytest.mark.django_db
def test_with_email_finds_the_user_ignoring_case(user):
    assert list(User.objects.with_email(user.email.upper())) == [user]


def test_argon2_is_the_first_hasher_and_pbkdf2_still_verifies():
    from config import settings as project_settings  # the tests themselves use a fast hasher

    hashers = project_settings.PASSWORD_HASHERS
    assert hashers[0] == "accounts.hashers.RosterArgon2PasswordHasher"
    assert "django.contrib.auth.hashers.PBKDF2PasswordHasher" in hashers


@pytest.mark.django_db
def test_new_passwords_are_argon2id_and_pbkdf2_hashes_are_upgraded_on_login(settings):
    from django.contrib.auth.hashers import make_password

    settings.PASSWORD_HASHERS = [
        "accounts.hashers.RosterArgon2PasswordHasher",
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    ]
    user = User.objects.create_user(email="old@example.com")
    user.password = make_password("an-old-passw0rd-here", hasher="pbkdf2_sha256")
    user.save()

    assert authenticate(email="old@example.com", password="an-old-passw0rd-here") == user
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$v=19$m=65536,t=3,p=4$")
