import pytest

from accounts import services
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_updating_a_stale_instance_never_undoes_a_concurrent_password_change(user):
    stale = User.objects.get(pk=user.pk)  # e.g. loaded by a request's authentication
    fresh = User.objects.get(pk=user.pk)
    fresh.set_password("the-new-Passw0rd-here")
    fresh.save()

    services.user_update(actor=stale, user=stale, data={"first_name": "Renamed"})

    row = User.objects.get(pk=user.pk)
    assert row.first_name == "Renamed"
    assert row.check_password("the-new-Passw0rd-here")


def test_deactivating_through_an_update_revokes_refresh_tokens(user):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    RefreshToken.for_user(user)

    services.user_update(actor=UserFactory(is_staff=True), user=user, data={"is_active": False})

    assert OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count() == 0
