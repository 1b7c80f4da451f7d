"""Attacks on the email change's links: a thief who knows the password moves the account through
addresses of their own; the owner's "this was not me" link must still win it back."""

import pytest

from accounts.emailchange import services
from accounts.emailchange.tests.test_email_change import CLIENT, request_change, tokens_from
from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD


@pytest.fixture
def user(db):
    return UserFactory(password=PASSWORD, email="owner@example.com")


def move(user, new_email, mailoutbox):
    """The thief's change of `user` to `new_email`, confirmed: returns its revert token."""
    mailoutbox.clear()
    services.email_change_request(user=user, new_email=new_email, password=PASSWORD, client=CLIENT)
    confirm, revert = tokens_from(mailoutbox)
    services.email_change_confirm(token=confirm)
    user.refresh_from_db()
    return revert


def reset_links_to(mailoutbox, address):
    return [m for m in mailoutbox if address in m.to and "/accounts/password/reset/" in m.body]


def test_the_first_revert_restores_the_owner_address_after_a_second_change(user, mailoutbox):
    owners_revert = move(user, "thief1@example.org", mailoutbox)
    move(user, "thief2@example.org", mailoutbox)
    mailoutbox.clear()
    services.email_change_revert(token=owners_revert)
    user.refresh_from_db()
    assert user.email == "owner@example.com" and user.email_verified
    assert reset_links_to(mailoutbox, "owner@example.com")
    assert not reset_links_to(mailoutbox, "thief2@example.org")


def test_a_later_revert_cannot_take_the_account_back_after_the_owner_reverted(user, mailoutbox):
    owners_revert = move(user, "thief1@example.org", mailoutbox)
    thiefs_revert = move(user, "thief2@example.org", mailoutbox)  # mailed to thief1
    services.email_change_revert(token=owners_revert)
    with pytest.raises(services.ValidationError):
        services.email_change_revert(token=thiefs_revert)
    assert User.objects.get(pk=user.pk).email == "owner@example.com"


def test_a_revert_of_a_superseded_request_restores_the_owner_address(user, mailoutbox):
    request_change(user, new_email="thief1@example.org")  # never confirmed, then superseded
    _, owners_revert = tokens_from(mailoutbox)
    move(user, "thief2@example.org", mailoutbox)
    mailoutbox.clear()
    services.email_change_revert(token=owners_revert)
    user.refresh_from_db()
    assert user.email == "owner@example.com"
    assert not reset_links_to(mailoutbox, "thief2@example.org")


def change_password(user):
    from accounts import services as account_services

    account_services.password_change(
        user=user, current_password=PASSWORD, new_password="a-brand-new-passw0rd!", client=CLIENT
    )


def reset_password(user):
    from accounts import services as account_services
    from accounts.links import encode_uid, password_reset_tokens

    account_services.password_reset_confirm(
        uidb64=encode_uid(user),
        token=password_reset_tokens.make_token(user),
        new_password="a-brand-new-passw0rd!",
    )


def staff_sets_password(user):
    from accounts import services as account_services

    superuser = UserFactory(is_staff=True, is_superuser=True)
    account_services.password_set(actor=superuser, user=user, password=None)


def close_account(user):
    from accounts import services as account_services

    account_services.user_close_own_account(user=user, password=PASSWORD, client=CLIENT)


@pytest.mark.parametrize("owner_acts", [change_password, reset_password, staff_sets_password])
def test_a_new_password_voids_the_thiefs_pending_change(user, mailoutbox, owner_acts):
    """The thief asked for the change with the stolen password; the owner's new password ends
    every session and token, and must end the confirm link too."""
    request_change(user, new_email="thief@example.org")
    confirm, _ = tokens_from(mailoutbox)
    owner_acts(User.objects.get(pk=user.pk))
    with pytest.raises(services.ValidationError):
        services.email_change_confirm(token=confirm)
    assert User.objects.get(pk=user.pk).email == "owner@example.com"


def test_a_closed_account_keeps_its_address(user, mailoutbox):
    request_change(user, new_email="thief@example.org")
    confirm, _ = tokens_from(mailoutbox)
    close_account(user)
    with pytest.raises(services.ValidationError):
        services.email_change_confirm(token=confirm)
    assert User.objects.get(pk=user.pk).email == "owner@example.com"


def test_the_thief_cannot_block_the_revert_by_registering_the_old_address(user, mailoutbox, client):
    """Once the account has moved to the thief's address, the owner's old address is free: the
    thief registers it (no verification needed) so that the revert fails as "taken"."""
    owners_revert = move(user, "thief1@example.org", mailoutbox)
    response = client.post(
        "/api/v1/auth/register/",
        {"email": "Owner@example.com", "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 400
    services.email_change_revert(token=owners_revert)
    user.refresh_from_db()
    assert user.email == "owner@example.com" and not user.has_usable_password()


def test_the_old_address_is_free_again_once_the_revert_window_closed(user, mailoutbox, settings):
    import datetime as dt

    import time_machine

    from accounts import services as account_services

    move(user, "new.home@example.org", mailoutbox)
    later = dt.datetime.now(tz=dt.UTC) + dt.timedelta(days=settings.EMAIL_CHANGE_REVERT_DAYS + 1)
    with time_machine.travel(later):
        registered = account_services.user_register(email="owner@example.com", password=PASSWORD)
    assert registered.email == "owner@example.com"


def test_a_passkey_the_thief_registered_does_not_outlive_the_revert(user, mailoutbox):
    """The thief logs in with the stolen password, registers a passkey of their own (a login on
    its own, no password needed), then moves the account. "This was not me" must lock them out."""
    from rest_framework.test import APIClient

    from conftest import bearer_client
    from users_api.tests.test_mfa import assertion, register_passkey

    thief = bearer_client(user)
    authenticator, _ = register_passkey(thief)
    owners_revert = move(user, "thief1@example.org", mailoutbox)
    services.email_change_revert(token=owners_revert)
    response = APIClient().post(
        "/api/v1/auth/passkeys/login/", {"credential": assertion(authenticator)}, format="json"
    )
    assert response.status_code == 401


def test_an_import_cannot_give_the_reserved_old_address_to_a_new_account(
    user, mailoutbox, tmp_path
):
    """The operator's bulk path honours the reservation too: an import creating an account with
    the owner's old address would make the owner's revert fail as "taken"."""
    from accounts.management.commands.import_users import RESERVED
    from accounts.tests.test_commands import run_failing, write

    owners_revert = move(user, "thief1@example.org", mailoutbox)
    path = write(tmp_path, "u.csv", "email\nfine@example.com\nOWNER@example.com\n")

    message, err = run_failing("import_users", str(path))

    assert err.splitlines() == [f"{path}:3: {RESERVED}"]
    assert "nothing was written" in message
    assert not User.objects.with_email("fine@example.com").exists()
    services.email_change_revert(token=owners_revert)
    user.refresh_from_db()
    assert user.email == "owner@example.com"


def test_the_import_service_refuses_a_reserved_address_whoever_calls_it(user, mailoutbox):
    from django.core.exceptions import ValidationError

    from accounts import policy
    from accounts import services as account_services

    move(user, "thief1@example.org", mailoutbox)
    with pytest.raises(ValidationError):
        account_services.users_import(
            actor=policy.OPERATOR, created=[User(email="owner@example.com")], updated=[]
        )
    assert not User.objects.with_email("owner@example.com").exists()
