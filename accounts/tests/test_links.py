"""Verification links die when promised: once used, or once the address was verified another way,
for good, even after staff un-verify the address."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts import policy, services
from accounts.links import email_verification_tokens, encode_uid
from accounts.models import User
from accounts.policy import Entry
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unverified(db):
    return UserFactory(email_verified=False)


def link_of(user):
    return {"uidb64": encode_uid(user), "token": email_verification_tokens.make_token(user)}


def unverify(user, staff):
    services.user_update(actor=staff, user=user, data={"email_verified": False})


def test_a_used_link_stays_dead_after_staff_unverify_the_address(unverified, staff):
    link = link_of(unverified)
    services.email_verify(**link)
    unverify(unverified, staff)

    with pytest.raises(ValidationError):
        services.email_verify(**link)

    row = User.objects.get(pk=unverified.pk)
    assert not row.email_verified and row.email_verified_at is not None


@pytest.mark.parametrize(
    "verify_otherwise",
    [
        lambda user, staff: services.email_mark_verified(actor=staff, user=user),
        lambda user, staff: services.user_update(
            actor=staff, user=user, data={"email_verified": True}
        ),
    ],
    ids=["admin action", "staff update"],
)
def test_an_unused_link_dies_when_staff_verify_and_stays_dead_after_unverify(
    unverified, staff, verify_otherwise
):
    link = link_of(unverified)
    verify_otherwise(unverified, staff)
    unverify(unverified, staff)

    with pytest.raises(ValidationError):
        services.email_verify(**link)


def test_a_link_made_after_the_unverify_works_once(unverified, staff):
    services.email_verify(**link_of(unverified))
    unverify(unverified, staff)
    fresh = link_of(User.objects.get(pk=unverified.pk))

    services.email_verify(**fresh)
    with pytest.raises(ValidationError):
        services.email_verify(**fresh)

    assert User.objects.get(pk=unverified.pk).email_verified


def test_every_way_to_verify_dates_it_and_unverifying_keeps_the_date(unverified, staff):
    before = timezone.now()
    services.email_mark_verified(actor=staff, user=unverified)
    marked = User.objects.get(pk=unverified.pk).email_verified_at
    unverify(unverified, staff)
    kept = User.objects.get(pk=unverified.pk).email_verified_at
    services.email_verify(**link_of(User.objects.get(pk=unverified.pk)))
    again = User.objects.get(pk=unverified.pk).email_verified_at
    created = services.user_create(
        actor=policy.OPERATOR, email="born@example.com", email_verified=True, entry=Entry.IMPORT
    )
    superuser = User.objects.create_superuser("root@example.com", "a-Long-enough-passw0rd")

    assert before <= marked == kept < again
    assert created.email_verified_at is not None and superuser.email_verified_at is not None


def test_a_pending_link_of_a_never_verified_user_hashes_as_before(unverified):
    # Links mailed before email_verified_at existed must keep working after the upgrade.
    timestamp = email_verification_tokens._num_seconds(email_verification_tokens._now())
    old_value = (
        f"{unverified.pk}{unverified.email}{unverified.email_verified}{unverified.is_active}"
        f"{timestamp}"
    )

    new_value = email_verification_tokens._make_hash_value(unverified, timestamp)

    assert new_value == old_value
