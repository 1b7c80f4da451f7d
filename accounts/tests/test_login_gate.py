"""The login gate through every place a password is presented: failures anywhere count against
the account everywhere, a locked account refuses strangers everywhere (right password or not),
and a device that logged in before keeps working."""

import datetime as dt
import json
import threading

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from accounts import login_gate, ratelimit
from accounts.models import User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD, bearer_client

pytestmark = pytest.mark.django_db

WRONG = "not-the-password-at-all"
NEW = "a-Brand-new-passw0rd-here"


def api_token(client, account, password):
    response = client.post(
        "/api/v1/auth/token/",
        json.dumps({"email": account.email, "password": password}),
        content_type="application/json",
    )
    return {200: "ok", 401: "wrong", 429: "locked"}.get(response.status_code, response)


def api_auth_login(client, account, password):
    response = client.post(
        "/api-auth/login/", {"username": account.email, "password": password, "next": "/"}
    )
    return {302: "ok", 200: "wrong", 429: "locked"}.get(response.status_code, response)


def admin_login(client, account, password):
    response = client.post(
        "/admin/login/", {"username": account.email, "password": password, "next": "/admin/"}
    )
    return {302: "ok", 200: "wrong", 429: "locked"}.get(response.status_code, response)


def password_change(client, account, password):
    response = bearer_client(account).post(
        "/api/v1/auth/password/change/",
        json.dumps({"current_password": password, "new_password": NEW}),
        content_type="application/json",
        HTTP_COOKIE=_cookie_header(client),
    )
    return {204: "ok", 400: "wrong", 429: "locked"}.get(response.status_code, response)


def close_account(client, account, password):
    response = bearer_client(account).delete(
        "/api/v1/users/me/",
        json.dumps({"password": password}),
        content_type="application/json",
        HTTP_COOKIE=_cookie_header(client),
    )
    return {204: "ok", 400: "wrong", 429: "locked"}.get(response.status_code, response)


def admin_password_change(client, account, password):
    session = Client()
    session.force_login(account)
    session.cookies.update(client.cookies)
    response = session.post(
        "/admin/password_change/",
        {"old_password": password, "new_password1": NEW, "new_password2": NEW},
    )
    return {302: "ok", 200: "wrong", 429: "locked"}.get(response.status_code, response)


def _cookie_header(client):
    device = client.cookies.get(login_gate.DEVICE_COOKIE)
    return f"{login_gate.DEVICE_COOKIE}={device.value}" if device else ""


ENTRIES = {
    "api token": api_token,
    "browsable API login": api_auth_login,
    "admin login": admin_login,
    "password change": password_change,
    "closing the account": close_account,
    "admin password change": admin_password_change,
}
LOGINS = ("api token", "browsable API login", "admin login")
# Entries a stranger can reach: no session of the account. A signed-in session confirming its
# own user's password counts its failures per session, like a known device.
SIGNED_IN = tuple(sorted(set(ENTRIES) - set(LOGINS)))


@pytest.fixture
def roomy_ip_limit(settings, fresh_windows):
    """Every test client is 127.0.0.1: keep the per-IP limit out of the way of the per-account."""
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "100000/minute"}


gate_examples = hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@gate_examples
@given(
    failures=st.lists(st.sampled_from(LOGINS), min_size=10, max_size=10),
    final=st.sampled_from(LOGINS),
)
def test_ten_failures_anywhere_lock_the_account_everywhere(roomy_ip_limit, failures, final):
    account = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)

    outcomes = [ENTRIES[entry](Client(), account, WRONG) for entry in failures]
    locked = ENTRIES[final](Client(), account, PASSWORD)

    assert outcomes == ["wrong"] * 10
    assert locked == "locked"
    row = User.objects.get(pk=account.pk)
    assert row.is_active and row.check_password(PASSWORD)


@gate_examples
@given(
    known_by=st.sampled_from(LOGINS),
    attack=st.lists(st.sampled_from(LOGINS), min_size=11, max_size=11),
    final=st.sampled_from(sorted(ENTRIES)),
)
def test_a_strangers_failures_do_not_lock_out_a_known_device(
    roomy_ip_limit, known_by, attack, final
):
    account = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    device = Client()
    assert ENTRIES[known_by](device, account, PASSWORD) == "ok"

    outcomes = [ENTRIES[entry](Client(), account, WRONG) for entry in attack]

    assert outcomes[:10] == ["wrong"] * 10 and outcomes[10] == "locked"
    assert ENTRIES[final](device, account, PASSWORD) == "ok"


@gate_examples
@given(
    attack=st.lists(st.sampled_from(LOGINS), min_size=11, max_size=11),
    final=st.sampled_from(SIGNED_IN),
)
def test_a_strangers_failures_do_not_stop_a_signed_in_session(roomy_ip_limit, attack, final):
    account = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)

    outcomes = [ENTRIES[entry](Client(), account, WRONG) for entry in attack]

    assert outcomes[:10] == ["wrong"] * 10 and outcomes[10] == "locked"
    assert ENTRIES[final](Client(), account, PASSWORD) == "ok"  # a new session, no cookie


@gate_examples
@given(
    logins=st.lists(
        st.tuples(st.integers(min_value=0, max_value=2), st.sampled_from(LOGINS)),
        min_size=2,
        max_size=5,
    ),
    final=st.sampled_from(sorted(ENTRIES)),
)
def test_a_device_that_logged_in_to_several_accounts_stays_known_to_each(
    roomy_ip_limit, logins, final
):
    """One browser, several accounts (a staff member's own and admin ones, a shared computer):
    logging in to one must not make it a stranger to the others."""
    accounts = [UserFactory(password=PASSWORD, is_staff=True, is_superuser=True) for _ in range(3)]
    device = Client()
    for index, entry in logins:
        assert ENTRIES[entry](device, accounts[index], PASSWORD) == "ok"

    for index in sorted({index for index, _ in logins}):
        outcomes = [api_token(Client(), accounts[index], WRONG) for _ in range(11)]
        assert outcomes[-1] == "locked"
        assert ENTRIES[final](device, accounts[index], PASSWORD) == "ok"


def test_a_device_remembers_its_latest_accounts_only(roomy_ip_limit):
    accounts = [UserFactory(password=PASSWORD) for _ in range(login_gate.DEVICE_ACCOUNTS + 1)]
    device = Client()
    for account in accounts:
        assert api_token(device, account, PASSWORD) == "ok"
    for account in (accounts[0], accounts[1]):
        for _ in range(10):
            api_token(Client(), account, WRONG)

    assert api_token(device, accounts[0], PASSWORD) == "locked"  # the oldest, forgotten
    assert api_token(device, accounts[1], PASSWORD) == "ok"


def test_a_device_credential_issued_before_several_accounts_still_counts(roomy_ip_limit, user):
    from django.core import signing

    device = Client()
    device.cookies[login_gate.DEVICE_COOKIE] = signing.dumps(
        {"a": ratelimit.digest(login_gate.account_key(user.email)), "n": "old-device"},
        salt="accounts.login_gate.device",
    )
    for _ in range(10):
        api_token(Client(), user, WRONG)

    assert api_token(device, user, PASSWORD) == "ok"


def test_a_device_credential_for_another_account_does_not_exempt(roomy_ip_limit):
    mine, victim = (UserFactory(password=PASSWORD, is_staff=True) for _ in range(2))
    device = Client()
    assert api_token(device, mine, PASSWORD) == "ok"
    for _ in range(10):
        api_token(Client(), victim, WRONG)

    assert api_token(device, victim, PASSWORD) == "locked"


def test_a_forged_device_credential_does_not_exempt(roomy_ip_limit, user):
    for _ in range(10):
        api_token(Client(), user, WRONG)
    forged = Client()
    forged.cookies[login_gate.DEVICE_COOKIE] = "eyJhIjoiIn0:forged:signature"

    assert api_token(forged, user, PASSWORD) == "locked"


def test_a_known_device_is_limited_on_its_own_too(roomy_ip_limit, user):
    device = Client()
    assert api_token(device, user, PASSWORD) == "ok"

    outcomes = [api_token(device, user, WRONG) for _ in range(11)]

    assert outcomes == ["wrong"] * 10 + ["locked"]


def test_the_lockout_ends_with_its_window(roomy_ip_limit, user):
    for _ in range(10):
        api_token(Client(), user, WRONG)
    assert api_token(Client(), user, PASSWORD) == "locked"

    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(minutes=16), tick=False):
        assert api_token(Client(), user, PASSWORD) == "ok"


def test_a_right_password_gives_its_failure_back(roomy_ip_limit, user):
    for _ in range(9):
        api_token(Client(), user, WRONG)
    for _ in range(5):
        assert api_token(Client(), user, PASSWORD) == "ok"

    assert api_token(Client(), user, WRONG) == "wrong"
    assert api_token(Client(), user, PASSWORD) == "locked"


def test_every_spelling_of_the_email_counts_against_one_account(roomy_ip_limit, user):
    spellings = [user.email.upper(), user.email.title(), f"  {user.email}  "]
    for attempt in range(10):
        client = Client()
        client.post(
            "/api/v1/auth/token/",
            {"email": spellings[attempt % 3], "password": WRONG},
            content_type="application/json",
        )

    assert api_token(Client(), user, PASSWORD) == "locked"


def test_staff_lift_a_lockout_in_the_admin(roomy_ip_limit, user):
    operator = UserFactory(is_staff=True, is_superuser=True)
    for _ in range(10):
        api_token(Client(), user, WRONG)
    assert login_gate.lockout_seconds_left(user.email) is not None
    admin = Client()
    admin.force_login(operator)

    response = admin.post(
        "/admin/accounts/user/",
        {"action": "lift_login_lockout", "_selected_action": [str(user.pk)]},
        follow=True,
    )

    assert "Lifted the login lockout of 1 user." in [str(m) for m in response.context["messages"]]
    assert login_gate.lockout_seconds_left(user.email) is None
    assert api_token(Client(), user, PASSWORD) == "ok"


def test_staff_cannot_lift_a_superusers_lockout(roomy_ip_limit):
    boss = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    staff = UserFactory(is_staff=True, is_superuser=False)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_user", "change_user"])
    )
    for _ in range(10):
        api_token(Client(), boss, WRONG)
    admin = Client()
    admin.force_login(staff)

    admin.post(
        "/admin/accounts/user/",
        {"action": "lift_login_lockout", "_selected_action": [str(boss.pk)]},
    )

    assert login_gate.lockout_seconds_left(boss.email) is not None


def test_the_browsable_api_login_answers_429_with_retry_after(roomy_ip_limit, user):
    for _ in range(10):
        api_auth_login(Client(), user, WRONG)

    response = Client().post("/api-auth/login/", {"username": user.email, "password": PASSWORD})

    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 15 * 60
    assert "Too many login attempts" in response.content.decode()
    assert "_auth_user_id" not in Client().session


def test_the_per_ip_limit_covers_every_form(settings, user):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "4/minute"}
    staff = UserFactory(password=PASSWORD, is_staff=True)
    tries = [api_token, api_auth_login, admin_login, password_change]

    outcomes = [attempt(Client(), staff, WRONG) for attempt in tries]

    assert outcomes == ["wrong"] * 4
    assert api_token(Client(), user, PASSWORD) == "locked"
    assert admin_login(Client(), staff, PASSWORD) == "locked"


# --- The counters themselves ---------------------------------------------------------------------


def test_a_counter_gets_its_expiry_in_the_same_step_and_refunds_land_in_its_window(
    redis_cache, settings
):
    import redis

    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "probe": "5/15m"}
    counter = ratelimit.window("probe", "someone")
    raw = redis.Redis.from_url("redis://127.0.0.1:6379/15")
    key = redis_cache.make_and_validate_key(counter.key)

    assert [ratelimit.hit(counter) for _ in range(3)] == [1, 2, 3]
    assert 0 < raw.ttl(key) <= 15 * 60
    ratelimit.refund(counter)
    assert ratelimit.count(counter) == 2
    raw.delete(key)
    ratelimit.refund(counter)  # the window is gone: nothing is resurrected without an expiry
    assert raw.exists(key) == 0


def test_concurrent_hits_are_all_counted(redis_cache, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "probe": "1000/15m"}
    counter = ratelimit.window("probe", "burst")
    seen = []

    def hit_many():
        seen.extend(ratelimit.hit(counter) for _ in range(25))

    threads = [threading.Thread(target=hit_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(seen) == list(range(1, 201))


def test_a_dead_cache_lets_logins_through_and_says_so(settings, user, caplog, roomy_ip_limit):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    }

    assert api_token(Client(), user, PASSWORD) == "ok"
    assert "not counted" in caplog.text


@pytest.mark.parametrize("identity", ["a@\ud800b.com", "\udfff", "plain@example.com", ""])
def test_every_string_has_a_counter_digest(identity):
    from accounts import ratelimit

    key = ratelimit.digest(identity)

    assert len(key) == 32 and key == ratelimit.digest(identity)
    assert key != ratelimit.digest(identity + "x")
