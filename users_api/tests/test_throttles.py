"""Throttles: real counting in the configured cache (locmem here, Redis in the scale-out tests)."""

import datetime as dt

import pytest
import time_machine
from django.core import mail

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    """Set some throttle rates for one test, keeping the others."""

    def set_rates(**overrides):
        settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, **overrides}

    return set_rates


def login(client, email, password):
    return client.post("/api/v1/auth/token/", {"email": email, "password": password})


def test_ten_failed_logins_lock_the_account_for_the_window_ignoring_email_case(
    api_client, user, password
):
    variants = [user.email.upper(), user.email.lower(), user.email.title()]
    for attempt in range(10):
        response = login(api_client, variants[attempt % 3], "wrong-password-guess")
        assert response.status_code == 401, attempt

    locked = login(api_client, user.email, password)

    assert locked.status_code == 429
    assert locked["Content-Type"] == "application/problem+json"
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert locked.json()["status"] == 429

    later = dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=16)
    with time_machine.travel(later, tick=False):
        assert login(api_client, user.email, password).status_code == 200


def test_failed_logins_of_one_account_do_not_lock_another(api_client, user, other_user, password):
    for _ in range(10):
        login(api_client, user.email, "wrong-password-guess")

    assert login(api_client, other_user.email, password).status_code == 200


def test_token_requests_are_limited_per_ip(api_client, user, password, rates):
    rates(login="3/minute")

    answers = [login(api_client, user.email, password).status_code for _ in range(4)]
    other_ip = api_client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": password},
        REMOTE_ADDR="10.9.8.7",
    )

    assert answers == [200, 200, 200, 429]
    assert other_ip.status_code == 200


def test_forwarded_for_is_ignored_without_a_declared_proxy(api_client, user, password, rates):
    rates(login="1/minute")
    login(api_client, user.email, password)

    spoofed = api_client.post(
        "/api/v1/auth/token/",
        {"email": user.email, "password": password},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )

    assert spoofed.status_code == 429


def test_registration_is_limited_per_ip(api_client, rates):
    rates(register="2/hour")

    codes = [
        api_client.post(
            "/api/v1/auth/register/", {"email": f"r{i}@example.com", "password": "x-Long-passw0rd!"}
        ).status_code
        for i in range(3)
    ]

    assert codes == [201, 201, 429]


def test_password_reset_is_limited_per_target_email_across_ips(api_client, user, rates):
    rates(password_reset_email="2/hour")

    codes = [
        api_client.post(
            "/api/v1/auth/password/reset/",
            {"email": user.email.upper() if i % 2 else user.email},
            REMOTE_ADDR=f"10.0.0.{i}",
        ).status_code
        for i in range(3)
    ]

    assert codes == [202, 202, 429]
    assert len(mail.outbox) == 2


def test_password_reset_is_limited_per_ip(api_client, rates):
    rates(password_reset="2/hour")

    codes = [
        api_client.post("/api/v1/auth/password/reset/", {"email": f"p{i}@example.com"}).status_code
        for i in range(3)
    ]

    assert codes == [202, 202, 429]


def test_anonymous_and_user_rates_apply(api_client, auth_client, rates):
    rates(anon="2/minute", user="2/minute")

    anon = [
        api_client.post("/api/v1/auth/token/verify/", {"token": "x"}).status_code for _ in range(3)
    ]
    authed = [auth_client.get("/api/v1/users/me/").status_code for _ in range(3)]

    assert anon == [401, 401, 429]
    assert authed == [200, 200, 429]


def test_throttle_rate_overrides_are_read_per_request(
    api_client, rates, user, password, fresh_windows
):
    rates(login="1/minute")
    assert login(api_client, user.email, password).status_code == 200
    assert login(api_client, user.email, password).status_code == 429

    rates(login="100/minute")
    assert login(api_client, user.email, password).status_code == 200


def test_an_unreachable_cache_lets_requests_through(api_client, user, password, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }
    UserFactory(email="x@example.com")

    response = login(api_client, user.email, password)

    assert response.status_code == 200
    assert "cache is unreachable" in caplog.text


def test_an_unparsable_body_is_the_clients_error_not_a_cache_outage(api_client, caplog):
    response = api_client.post(
        "/api/v1/auth/password/reset/", data="{broken", content_type="application/json"
    )

    assert response.status_code == 400
    assert "unreachable" not in caplog.text


def test_counts_are_atomic_counters_in_redis_that_expire_with_the_window(
    redis_cache, auth_client, user, rates
):
    import redis

    rates(user="3/minute")

    codes = [auth_client.get("/api/v1/users/me/").status_code for _ in range(4)]

    assert codes == [200, 200, 200, 429]
    client = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    [key] = client.keys(f"{redis_cache.key_prefix}*rate:user:{user.pk}:*")
    assert int(client.get(key)) == 4
    assert 0 < client.ttl(key) <= 60


def test_email_change_mails_to_one_mailbox_are_limited_across_accounts_and_spellings():
    """Every request mails the new address: without a limit per target, any account could bomb a
    mailbox (a password reset's is 3 an hour)."""
    from conftest import PASSWORD, bearer_client

    victim = "victim@example.org"
    codes = []
    for i in range(4):
        thief = bearer_client(UserFactory(password=PASSWORD))
        spelling = victim.upper() if i % 2 else victim
        body = {"new_email": spelling, "password": PASSWORD}
        codes.append(thief.post("/api/v1/users/me/email/", body).status_code)

    assert codes == [202, 202, 202, 429]
    assert len([m for m in mail.outbox if victim in m.to]) == 3


def test_email_change_requests_are_limited_per_account(rates):
    """Each request says whether an address has an account (400 when taken): one account may not
    probe addresses faster than registration would let it."""
    from conftest import PASSWORD, bearer_client

    rates(email_change="3/hour")
    prober = bearer_client(UserFactory(password=PASSWORD))
    taken = UserFactory()
    addresses = ["free1@example.org", taken.email, "free2@example.org", "free3@example.org"]

    codes = [
        prober.post(
            "/api/v1/users/me/email/", {"new_email": address, "password": PASSWORD}
        ).status_code
        for address in addresses
    ]

    assert codes == [202, 400, 202, 429]
