"""The session services on their own: device names, addresses, and who may end what."""

import pytest
from django.core.exceptions import PermissionDenied
from hypothesis import given
from hypothesis import strategies as st

from accounts import login_gate
from accounts.policy import OPERATOR
from accounts.tests.factories import UserFactory
from accounts.tokens import issue_token_pair
from accounts.usersessions import services
from accounts.usersessions.models import UserSession


@pytest.mark.parametrize(
    ("user_agent", "device"),
    [
        (
            "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0",
            "Firefox on Ubuntu",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36",
            "Chrome on Windows",
        ),
        ("curl/8.5.0", "curl"),
        ("python-requests/2.32.3", "Python Requests"),
        ("", ""),
        ("\x00\x01 nothing known", ""),
    ],
)
def test_device_names(user_agent, device):
    assert services.device_name(user_agent) == device


@given(st.text(max_size=600))
def test_any_user_agent_gives_a_short_device_name(user_agent):
    name = services.device_name(user_agent)
    assert isinstance(name, str) and len(name) <= 200


@pytest.mark.django_db
@pytest.mark.parametrize("ip", ["", "unknown", "1.2.3.4, 5.6.7.8", "::ffff:1.2.3.4", "10.0.0.1"])
def test_an_address_that_is_not_an_ip_is_stored_as_none(user, ip):
    issue_token_pair(user, client=login_gate.Client(ip=ip, user_agent="curl/8"))

    stored = UserSession.objects.get().ip_address
    assert stored == {"::ffff:1.2.3.4": "::ffff:1.2.3.4", "10.0.0.1": "10.0.0.1"}.get(ip)


@pytest.mark.django_db
@pytest.mark.parametrize("actor", [OPERATOR, "other user", "inactive staff"])
def test_nobody_but_the_owner_staff_or_superusers_ends_a_session(user, actor):
    if actor == "other user":
        actor = UserFactory()
    elif actor == "inactive staff":
        actor = UserFactory(is_staff=True, is_active=False)
    issue_token_pair(user)
    session = UserSession.objects.get()

    with pytest.raises(PermissionDenied):
        services.end_session(actor=actor, session=session)
    with pytest.raises(PermissionDenied):
        services.end_all(actor=actor, user=user)
    session.refresh_from_db()
    assert session.ended_at is None
