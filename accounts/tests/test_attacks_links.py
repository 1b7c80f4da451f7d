"""Attacks on the emailed links: each works for its own purpose, user and moment only, and no
mail hands a link to an address that is no longer the account's."""

import re

import pytest
from django.core.exceptions import ValidationError

from accounts import notices, services
from accounts.links import (
    email_verification_tokens,
    encode_uid,
    password_reset_tokens,
)
from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "a-brand-new-passw0rd!"
RESET_LINK = re.compile(r"/accounts/password/reset/([^/\s]+)/([^/\s]+)/")


def reset(uidb64, token):
    return services.password_reset_confirm(uidb64=uidb64, token=token, new_password=NEW_PASSWORD)


def reset_links_in(messages):
    return [m for message in messages for m in RESET_LINK.findall(message.body)]


def test_a_verification_token_is_no_reset_token_and_the_other_way_round(db):
    user = UserFactory(email_verified=False)
    uid = encode_uid(user)
    with pytest.raises(ValidationError):
        reset(uid, email_verification_tokens.make_token(user))
    with pytest.raises(ValidationError):
        services.email_verify(uidb64=uid, token=password_reset_tokens.make_token(user))


def test_a_token_works_only_for_its_own_user(user, other_user):
    with pytest.raises(ValidationError):
        reset(encode_uid(other_user), password_reset_tokens.make_token(user))
    assert User.objects.get(pk=other_user.pk).check_password(PASSWORD)


def test_a_reset_link_works_once_and_dies_with_a_new_email_or_deactivation(user, staff):
    uid, token = encode_uid(user), password_reset_tokens.make_token(user)
    reset(uid, token)
    with pytest.raises(ValidationError):
        reset(uid, token)
    user.refresh_from_db()
    token = password_reset_tokens.make_token(user)
    services.user_update(actor=staff, user=user, data={"email": "elsewhere@example.org"})
    with pytest.raises(ValidationError):
        reset(uid, token)
    user.refresh_from_db()
    token = password_reset_tokens.make_token(user)
    services.user_update(actor=staff, user=user, data={"is_active": False})
    with pytest.raises(ValidationError):
        reset(uid, token)


@pytest.mark.parametrize("ended_by", ["staff", "closing"])
def test_a_reset_link_mailed_before_a_deactivation_stays_dead_after_the_reactivation(
    user, staff, ended_by
):
    """Staff lock a phished account (or its owner closes it), then reopen it: a reset link asked
    for before (the hash holds `is_active`, which flipped back) must not come back to life."""
    from accounts import login_gate

    uid, before = encode_uid(user), password_reset_tokens.make_token(user)
    if ended_by == "staff":
        services.user_update(actor=staff, user=user, data={"is_active": False})
    else:
        client = login_gate.Client(ip="192.0.2.1", user_agent="test")
        services.user_close_own_account(user=user, password=PASSWORD, client=client)
    services.user_update(actor=staff, user=user, data={"is_active": True})
    user.refresh_from_db()
    assert user.is_active
    with pytest.raises(ValidationError):
        reset(uid, before)
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)
    reset(uid, password_reset_tokens.make_token(user))  # a link asked for since works
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)


@pytest.fixture
def worker_later(settings):
    """Tasks wait in a queue; `run()` sends them, as the worker does once the request is over."""
    from django_tasks import default_task_backend

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}

    def run():
        from accounts.background.tasks import send_email

        for result in list(default_task_backend.results):
            if result.task.func is send_email.func:
                send_email.call(**result.kwargs)
        default_task_backend.clear()

    return run


def test_the_notice_to_an_old_address_carries_no_working_reset_link(
    user, staff, mailoutbox, worker_later
):
    """Staff move an account off an address (its mailbox lost, or taken over): the notice that
    goes to the old address must not hand its holder a reset link for the account."""
    old = user.email
    services.user_update(actor=staff, user=user, data={"email": "moved@example.org"})
    worker_later()
    to_old = [m for m in mailoutbox if old in m.to]
    assert to_old  # the notice went there
    for uid, token in reset_links_in(to_old):
        with pytest.raises(ValidationError):
            reset(uid, token)
    assert User.objects.get(pk=user.pk).check_password(PASSWORD)


def test_a_notice_sent_late_to_a_former_address_carries_no_working_reset_link(
    user, staff, mailoutbox, worker_later
):
    """A notice queued for the address of the moment and rendered once the account moved on
    (a mail server down for hours) must not give the former address a reset link; the current
    address's notices keep theirs."""
    old = user.email
    notices.send(user, "password_changed")
    services.user_update(actor=staff, user=user, data={"email": "moved@example.org"})
    notices.send(User.objects.get(pk=user.pk), "password_changed")
    worker_later()
    to_old = [m for m in mailoutbox if old in m.to]
    assert len(to_old) == 2
    for uid, token in reset_links_in(to_old):
        with pytest.raises(ValidationError):
            reset(uid, token)
    to_new = [m for m in mailoutbox if "moved@example.org" in m.to]
    assert len(reset_links_in(to_new)) == 1


def test_links_are_built_from_site_url_not_the_host_header(client, settings, mailoutbox):
    settings.SITE_URL = "https://roster.example.com"
    settings.ALLOWED_HOSTS = ["*"]
    UserFactory(email="victim@example.com")
    client.post(
        "/api/v1/auth/password/reset/",
        {"email": "victim@example.com"},
        content_type="application/json",
        HTTP_HOST="evil.example.net",
        HTTP_X_FORWARDED_HOST="evil.example.net",
    )
    client.post(
        "/api/v1/auth/register/",
        {"email": "newbie@example.com", "password": PASSWORD},
        content_type="application/json",
        HTTP_HOST="evil.example.net",
    )
    assert len(mailoutbox) == 2
    for message in mailoutbox:
        bodies = [message.body, *(alt[0] for alt in message.alternatives)]
        for body in bodies:
            assert "evil.example.net" not in body
            assert "https://roster.example.com/accounts/" in body
