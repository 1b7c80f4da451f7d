"""Attacks on the counters: identities a client can vary to get fresh quotas."""

import ipaddress
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts import ratelimit
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

examples = hypothesis_settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _token(address, account):
    return Client().post(
        "/api/v1/auth/token/",
        {"email": account.email, "password": "not-the-password-at-all"},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def _admin_login(address, account):
    return Client().post(
        "/admin/login/",
        {"username": account.email, "password": PASSWORD, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def _register(address, account):
    email = f"r{uuid.uuid4().hex}@example.com"
    return Client().post(
        "/api/v1/auth/register/",
        {"email": email, "password": "x-Long-passw0rd!"},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


def _reset(address, account):
    return Client().post(
        "/api/v1/auth/password/reset/",
        {"email": account.email},
        content_type="application/json",
        REMOTE_ADDR=address,
    )


# Each entry point counted per client IP, and its scope.
PER_IP = {
    "api token": (_token, "login"),
    "admin login": (_admin_login, "login"),
    "registration": (_register, "register"),
    "password reset": (_reset, "password_reset"),
}


def _spellings(address: ipaddress.IPv6Address):
    """How a socket or a proxy may write one IPv6 address."""
    return st.sampled_from([address.compressed, address.exploded, address.compressed.upper()])


interface_ids = st.integers(min_value=0, max_value=2**64 - 1)
prefixes = st.integers(min_value=0x2001_0DB8_0000_0000, max_value=0x2001_0DB8_FFFF_FFFF)


@examples
@given(
    entry=st.sampled_from(sorted(PER_IP)),
    prefix=prefixes,
    hosts=st.lists(interface_ids, min_size=3, max_size=3, unique=True),
    data=st.data(),
)
def test_one_ipv6_64_is_one_client_however_it_rotates(
    settings, fresh_windows, user, entry, prefix, hosts, data
):
    """An IPv6 user holds at least a /64 (2**64 addresses) and may pick a fresh one per request:
    the per-IP limits count the /64, or they limit nothing."""
    cache.clear()
    send, scope = PER_IP[entry]
    settings.THROTTLE_RATES = {
        **settings.THROTTLE_RATES,
        scope: "2/hour",
        "password_reset_email": "1000/hour",
        "register_email": "1000/hour",
    }
    addresses = [ipaddress.IPv6Address((prefix << 64) | host) for host in hosts]

    answers = [send(data.draw(_spellings(a)), user).status_code for a in addresses]

    assert 429 not in answers[:2], answers
    assert answers[2] == 429, answers
    neighbour = ipaddress.IPv6Address(((prefix + 1) << 64) | hosts[0])
    assert send(str(neighbour), user).status_code != 429


@pytest.mark.parametrize("entry", sorted(PER_IP))
def test_an_ipv4_mapped_address_is_the_ipv4_client(settings, fresh_windows, user, entry):
    """A dual-stack socket writes IPv4 clients as ::ffff:a.b.c.d: still that one IPv4 client,
    not one /64 shared by the whole IPv4 internet."""
    send, scope = PER_IP[entry]
    settings.THROTTLE_RATES = {
        **settings.THROTTLE_RATES,
        scope: "2/hour",
        "password_reset_email": "1000/hour",
        "register_email": "1000/hour",
    }

    answers = [send(address, user).status_code for address in ("192.0.2.7", "::ffff:192.0.2.7")]
    other = send("::ffff:198.51.100.9", user).status_code
    third = send("192.0.2.7", user).status_code

    assert 429 not in answers and other != 429
    assert third == 429


@pytest.mark.parametrize(
    ("raw", "counted"),
    [
        ("192.0.2.1", "192.0.2.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:DB8:0001:0002::9", "2001:db8:1:2::/64"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("fe80::1%eth0", "fe80::/64"),
        ("", ""),
        ("not an address", "not an address"),
    ],
)
def test_the_counted_network_of_an_address(raw, counted):
    assert ratelimit.client_network(raw) == counted


def test_a_strangers_passwords_from_a_shared_address_do_not_stop_refreshes(
    settings, fresh_windows, user, other_user
):
    """Refreshes count per IP at the `login` rate, in a window of their own."""
    from conftest import bearer_client

    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "3/minute"}
    app = bearer_client(user)
    flood = [_token("2001:db8:5::1", other_user).status_code for _ in range(4)]

    refreshed = app.post(
        "/api/v1/auth/token/refresh/",
        {"refresh": app.refresh_token},
        format="json",
        REMOTE_ADDR="2001:db8:5::2",
    )

    assert flood[-1] == 429
    assert refreshed.status_code == 200


@pytest.mark.parametrize("claim", ["password reset", "verification link"])
def test_a_squatters_device_credential_dies_when_the_owner_proves_the_address(
    settings, fresh_windows, claim
):
    """Pre-hijacking: someone registers my address (unverified) and logs in, which gives their
    browser a device credential for it. Once I prove the mailbox is mine, that browser must be
    a stranger again: not exempt from the lockout a stranger sets off, not a device I know."""
    from accounts.links import email_verification_tokens, encode_uid, password_reset_tokens
    from accounts.models import User

    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "100000/minute"}
    auth = "/api/v1/auth/"
    mine, theirs, my_own = "me@example.org", "squatters-Long-passw0rd", "my-own-Long-passw0rd"
    squatter = Client()
    registered = squatter.post(
        f"{auth}register/",
        {"email": mine, "password": theirs},
        content_type="application/json",
    )
    assert registered.status_code == 201
    me = User.objects.get(email=mine)
    login = squatter.post(
        f"{auth}token/", {"email": mine, "password": theirs}, content_type="application/json"
    )
    assert login.status_code == 200 and login.cookies.get("roster_device")
    me.refresh_from_db()  # the login moved last_login, which the reset link is bound to

    if claim == "password reset":
        body = {"uid": encode_uid(me), "token": password_reset_tokens.make_token(me)}
        path, body = f"{auth}password/reset/confirm/", {**body, "new_password": my_own}
    else:
        body = {"uid": encode_uid(me), "token": email_verification_tokens.make_token(me)}
        path = f"{auth}email/verify/"
    assert Client().post(path, body, content_type="application/json").status_code == 204
    if claim == "verification link":  # I take it over with a reset later; the device stays out
        me.refresh_from_db()
        me.set_password(my_own)
        me.save()
    my_device = Client()
    assert (
        my_device.post(
            f"{auth}token/", {"email": mine, "password": my_own}, content_type="application/json"
        ).status_code
        == 200
    )

    for _ in range(10):
        _token("203.0.113.9", me)

    guess = squatter.post(
        f"{auth}token/",
        {"email": mine, "password": "a-guess-of-mine"},
        content_type="application/json",
    )
    assert guess.status_code == 429
    assert (
        my_device.post(
            f"{auth}token/", {"email": mine, "password": my_own}, content_type="application/json"
        ).status_code
        == 200
    )


@pytest.mark.parametrize("num_proxies", [0, 1])
def test_a_client_chooses_neither_its_address_nor_its_network_behind_the_declared_proxies(
    settings, fresh_windows, user, num_proxies
):
    """Without a declared proxy X-Forwarded-For and X-Real-IP are ignored; behind one, only the
    entry that proxy appended counts (and an IPv6 one by its /64)."""
    settings.NUM_PROXIES = num_proxies
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "2/minute"}

    def attempt(spoofed, host):
        real = f"2001:db8:7::{host:x}"
        return (
            Client()
            .post(
                "/api/v1/auth/token/",
                {"email": user.email, "password": "not-the-password-at-all"},
                content_type="application/json",
                REMOTE_ADDR="10.0.0.1" if num_proxies else real,
                HTTP_X_FORWARDED_FOR=f"{spoofed}, {real}" if num_proxies else spoofed,
                HTTP_X_REAL_IP=spoofed,
            )
            .status_code
        )

    answers = [attempt(f"198.51.100.{i}", 100 + i) for i in range(3)]

    assert answers == [401, 401, 429]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=12,
)


@examples
@given(
    payload=st.one_of(
        json_values,
        st.fixed_dictionaries({"n": json_values, "a": json_values}),
        st.fixed_dictionaries({"n": st.text(min_size=1, max_size=5), "a": json_values}),
    ),
    signed=st.booleans(),
)
def test_any_device_credential_is_a_login_never_a_5xx(
    settings, fresh_windows, user, payload, signed
):
    """A credential of any shape (signed by Roster, as an older release might have, or not) is
    either known or ignored: the login answers as without it."""
    from django.core import signing

    from accounts import login_gate

    cache.clear()
    device = Client()
    salt = "accounts.login_gate.device" if signed else "another.salt"  # else: a forgery
    value = signing.dumps(payload, salt=salt)
    device.cookies[login_gate.DEVICE_COOKIE] = value

    response = device.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
    )

    assert response.status_code == 200
