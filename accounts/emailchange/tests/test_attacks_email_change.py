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
