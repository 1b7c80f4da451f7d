"""DESIGN.md "Sessions": the endpoints, each permission boundary, and every way a session ends
killing its access and refresh tokens at the very next request."""

import json
import re

import pytest
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client as BrowserClient
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.usersessions.models import UserSession
from conftest import PASSWORD, bearer_client

pytestmark = pytest.mark.django_db

FIREFOX = "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
NEW_PASSWORD = "another-Long-passw0rd"
SESSION_KEYS = {
    "id",
    "kind",
    "device",
    "ip_address",
    "created_at",
    "last_used_at",
    "expires_at",
    "current",
}


def login(account, user_agent=FIREFOX, **extra):
    """A fresh client that logged in through the API; `.pair` holds its tokens."""
    client = APIClient(HTTP_USER_AGENT=user_agent)
    response = client.post(
        "/api/v1/auth/token/", {"email": account.email, "password": PASSWORD, **extra}
    )
    assert response.status_code == 200, response.content
    client.pair = response.json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {client.pair['access']}")
    return client


def sid_of(client):
    return RefreshToken(client.pair["refresh"], verify=False)["sid"]


def is_dead(client):
    """True when neither the access token nor the refresh token of `client` works any more."""
    me = APIClient().get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {client.pair['access']}")
    refreshed = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": client.pair["refresh"]})
    assert me.status_code in (200, 401) and refreshed.status_code in (200, 401)
    if me.status_code == 401:
        assert me["WWW-Authenticate"].startswith("Bearer")
    return me.status_code == 401 and refreshed.status_code == 401


def works(client):
    return client.get("/api/v1/users/me/").status_code == 200


# --- GET auth/sessions/ ---------------------------------------------------------------------


def test_the_list_shows_each_login_with_its_device_and_marks_the_callers(user, other_user):
    laptop = login(user, FIREFOX)
    phone = login(user, IPHONE)
    login(other_user)

    response = laptop.get("/api/v1/auth/sessions/")

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    sessions = response.json()
    assert [set(s) for s in sessions] == [SESSION_KEYS, SESSION_KEYS]
    by_id = {s["id"]: s for s in sessions}
    assert set(by_id) == {sid_of(laptop), sid_of(phone)}
    assert by_id[sid_of(laptop)]["device"] == "Firefox on Ubuntu"
    assert by_id[sid_of(phone)]["device"] == "Mobile Safari on iOS"
    assert by_id[sid_of(laptop)]["current"] is True
    assert by_id[sid_of(phone)]["current"] is False
    assert {s["kind"] for s in sessions} == {"token"}
    assert {s["ip_address"] for s in sessions} == {"127.0.0.1"}


def test_ended_sessions_are_not_listed(user):
    laptop, phone = login(user), login(user)
    phone.post("/api/v1/auth/logout/", {"refresh": phone.pair["refresh"]})

    ids = [s["id"] for s in laptop.get("/api/v1/auth/sessions/").json()]

    assert ids == [sid_of(laptop)]


def test_the_list_needs_authentication(api_client):
    assert api_client.get("/api/v1/auth/sessions/").status_code == 401


# --- DELETE auth/sessions/{id}/ -------------------------------------------------------------


def test_ending_one_of_my_sessions_kills_its_tokens_and_only_those(user):
    laptop, phone = login(user), login(user, IPHONE)

    response = laptop.delete(f"/api/v1/auth/sessions/{sid_of(phone)}/")

    assert response.status_code == 204
    assert is_dead(phone)
    assert works(laptop)
    ended = UserSession.objects.get(pk=sid_of(phone))
    assert ended.ended_reason == "revoked" and ended.ended_at is not None


def test_another_users_session_is_404_and_stays_alive(user, other_user, staff):
    mine, theirs, staffs = login(user), login(other_user), login(staff)

    for caller in (mine, staffs):
        response = caller.delete(f"/api/v1/auth/sessions/{sid_of(theirs)}/")
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    assert works(theirs)


@pytest.mark.parametrize(
    "spelling", [str.upper, lambda s: s.replace("-", ""), lambda s: f"{{{s}}}", lambda s: "x"]
)
def test_other_spellings_of_a_session_id_are_404(user, spelling):
    laptop, phone = login(user), login(user)

    response = laptop.delete(f"/api/v1/auth/sessions/{spelling(sid_of(phone))}/")

    assert response.status_code == 404
    assert works(phone)


def test_an_ended_or_unknown_session_is_404(user):
    laptop, phone = login(user), login(user)
    assert laptop.delete(f"/api/v1/auth/sessions/{sid_of(phone)}/").status_code == 204

    assert laptop.delete(f"/api/v1/auth/sessions/{sid_of(phone)}/").status_code == 404
    unknown = "00000000-0000-4000-8000-000000000000"
    assert laptop.delete(f"/api/v1/auth/sessions/{unknown}/").status_code == 404


def test_ending_my_current_session_logs_me_out(user):
    laptop = login(user)

    assert laptop.delete(f"/api/v1/auth/sessions/{sid_of(laptop)}/").status_code == 204

    assert is_dead(laptop)


# --- POST auth/sessions/revoke-others/ ------------------------------------------------------


def test_revoke_others_ends_every_session_but_the_callers(user, other_user):
    laptop, phone, tablet = login(user), login(user), login(user)
    stranger = login(other_user)

    assert laptop.post("/api/v1/auth/sessions/revoke-others/").status_code == 204

    assert works(laptop)
    assert is_dead(phone) and is_dead(tablet)
    assert works(stranger)
    assert [s["id"] for s in laptop.get("/api/v1/auth/sessions/").json()] == [sid_of(laptop)]


# --- GET, DELETE users/{id}/sessions/ -------------------------------------------------------


def test_staff_list_a_users_sessions(user, staff):
    mine = login(user)
    response = login(staff).get(f"/api/v1/users/{user.pk}/sessions/")

    assert response.status_code == 200
    assert [(s["id"], s["current"]) for s in response.json()] == [(sid_of(mine), False)]


def test_non_staff_cannot_list_or_end_anyones_sessions_through_users(user, other_user):
    mine, theirs = login(user), login(other_user)

    for target in (user, other_user):
        url = f"/api/v1/users/{target.pk}/sessions/"
        assert mine.get(url).status_code == 403
        assert mine.delete(url).status_code == 403
    assert works(theirs) and works(mine)


ROLES = {
    "user": {},
    "staff": {"is_staff": True},
    "superuser": {"is_staff": True, "is_superuser": True},
}
# Who may end all of whose sessions (DESIGN.md's policy: staff for ordinary users, superusers
# for staff; their own sessions everyone may end).
MAY_END = {
    ("staff", "user"): True,
    ("staff", "staff"): False,
    ("staff", "superuser"): False,
    ("superuser", "user"): True,
    ("superuser", "staff"): True,
    ("superuser", "superuser"): True,
}


@pytest.mark.parametrize(("actor_role", "target_role"), sorted(MAY_END))
def test_ending_all_of_a_users_sessions_follows_the_policy(actor_role, target_role):
    actor = UserFactory(password=PASSWORD, **ROLES[actor_role])
    target = UserFactory(password=PASSWORD, **ROLES[target_role])
    theirs = login(target)
    operator = login(actor)

    response = operator.delete(f"/api/v1/users/{target.pk}/sessions/")

    if MAY_END[actor_role, target_role]:
        assert response.status_code == 204
        assert is_dead(theirs)
        assert UserSession.objects.get(pk=sid_of(theirs)).ended_reason == "revoked_by_staff"
    else:
        assert response.status_code == 403
        assert works(theirs)
    assert works(operator)


@pytest.mark.parametrize("role", ["staff", "superuser"])
def test_staff_ending_all_their_own_sessions_log_out_everywhere(role):
    actor = UserFactory(password=PASSWORD, **ROLES[role])
    client, elsewhere = login(actor), login(actor)

    assert client.delete(f"/api/v1/users/{actor.pk}/sessions/").status_code == 204
    assert is_dead(client) and is_dead(elsewhere)
    assert set(UserSession.objects.values_list("ended_reason", flat=True)) == {"revoked"}


def test_users_sessions_of_an_unknown_or_misspelled_id_is_404(staff, user):
    client = login(staff)
    for user_id in ("00000000-0000-4000-8000-000000000000", str(user.pk).upper()):
        assert client.get(f"/api/v1/users/{user_id}/sessions/").status_code == 404
        assert client.delete(f"/api/v1/users/{user_id}/sessions/").status_code == 404


# --- every way a session ends kills its access token at the next request --------------------


def _logout(victim, helper, staff):
    victim.post("/api/v1/auth/logout/", {"refresh": victim.pair["refresh"]})


def _end_it_from_another_session(victim, helper, staff):
    helper.delete(f"/api/v1/auth/sessions/{sid_of(victim)}/")


def _revoke_others(victim, helper, staff):
    helper.post("/api/v1/auth/sessions/revoke-others/")


def _staff_end_all(victim, helper, staff):
    staff.delete(f"/api/v1/users/{victim.user.pk}/sessions/")


def _password_change(victim, helper, staff):
    helper.post(
        "/api/v1/auth/password/change/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )


def _password_reset(victim, helper, staff):
    APIClient().post("/api/v1/auth/password/reset/", {"email": victim.user.email})
    match = re.search(r"/accounts/password/reset/([^/\s]+)/([^/\s]+)/", mail.outbox[-1].body)
    APIClient().post(
        "/api/v1/auth/password/reset/confirm/",
        {"uid": match[1], "token": match[2], "new_password": NEW_PASSWORD},
    )


def _staff_deactivates(victim, helper, staff):
    staff.delete(f"/api/v1/users/{victim.user.pk}/")


def _close_own_account(victim, helper, staff):
    helper.generic(
        "DELETE", "/api/v1/users/me/", json.dumps({"password": PASSWORD}), "application/json"
    )


def _refresh_reuse(victim, helper, staff):
    # a thief refreshes the stolen token first; the victim's next refresh is a reuse
    stolen = victim.pair["refresh"]
    thief = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": stolen}).json()
    APIClient().post("/api/v1/auth/token/refresh/", {"refresh": stolen})
    victim.pair = thief  # even the thief's fresh pair is dead now


WAYS = {
    "logout": _logout,
    "ended from another session": _end_it_from_another_session,
    "revoke-others": _revoke_others,
    "staff end all": _staff_end_all,
    "password change": _password_change,
    "password reset": _password_reset,
    "staff deactivation": _staff_deactivates,
    "closing the account": _close_own_account,
    "refresh reuse": _refresh_reuse,
}


@pytest.mark.parametrize("way", WAYS)
def test_every_way_a_session_ends_kills_its_access_token_at_once(way, user, staff):
    victim, helper = login(user), login(user)
    victim.user = user
    assert works(victim)

    WAYS[way](victim, helper, login(staff))

    assert is_dead(victim)
    assert UserSession.objects.get(pk=sid_of(victim)).ended_at is not None


def test_reactivation_does_not_revive_old_tokens(user, staff):
    victim = login(user)
    operator = login(staff)
    assert operator.delete(f"/api/v1/users/{user.pk}/").status_code == 204

    assert operator.patch(f"/api/v1/users/{user.pk}/", {"is_active": True}).status_code == 200

    assert User.objects.get(pk=user.pk).is_active
    assert is_dead(victim)
    assert works(login(user))  # a new login is a new session


def test_a_token_without_a_session_is_refused(user):
    legacy = RefreshToken.for_user(user)  # what SimpleJWT alone issues: no sid

    me = APIClient().get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {legacy.access_token}")
    refreshed = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": str(legacy)})
    verified = APIClient().post("/api/v1/auth/token/verify/", {"token": str(legacy.access_token)})

    assert me.status_code == refreshed.status_code == verified.status_code == 401


def test_verify_refuses_a_token_of_an_ended_session(user):
    client = login(user)
    client.post("/api/v1/auth/logout/", {"refresh": client.pair["refresh"]})

    response = APIClient().post("/api/v1/auth/token/verify/", {"token": client.pair["access"]})

    assert response.status_code == 401


def test_a_refresh_keeps_the_session_and_records_its_use(user, time_machine):
    time_machine.move_to("2026-01-01T00:00:00Z")
    client = login(user)
    time_machine.move_to("2026-01-01T00:04:00Z")

    rotated = APIClient().post("/api/v1/auth/token/refresh/", {"refresh": client.pair["refresh"]})

    client.pair = rotated.json()
    session = UserSession.objects.get()
    assert sid_of(client) == str(session.pk)
    assert session.last_used_at.isoformat().startswith("2026-01-01T00:04")
    assert session.created_at.isoformat().startswith("2026-01-01T00:00")
    assert session.expires_at.isoformat().startswith("2026-01-02T00:04")


def test_bearer_client_fixture_tokens_belong_to_a_session(user):
    client = bearer_client(user)
    assert UserSession.objects.filter(user=user, kind="token").count() == 1
    assert works(client)


# --- browser sessions ---------------------------------------------------------------------


def browser_login(account):
    browser = BrowserClient(HTTP_USER_AGENT=FIREFOX)
    response = browser.post(
        "/api-auth/login/",
        {"username": account.email, "password": PASSWORD, "next": "/api/v1/users/me/"},
    )
    assert response.status_code == 302, response.content
    return browser


def browser_works(browser):
    return browser.get("/api/v1/users/me/", HTTP_ACCEPT="application/json").status_code == 200


def test_a_browser_login_is_listed_and_can_be_ended_from_the_api(user):
    browser = browser_login(user)
    api = login(user)
    assert browser_works(browser)

    sessions = api.get("/api/v1/auth/sessions/").json()
    browser_session = next(s for s in sessions if s["kind"] == "browser")
    assert browser_session["device"] == "Firefox on Ubuntu"
    listed_by_browser = browser.get("/api/v1/auth/sessions/", HTTP_ACCEPT="application/json")
    assert [s["current"] for s in listed_by_browser.json() if s["kind"] == "browser"] == [True]

    assert api.delete(f"/api/v1/auth/sessions/{browser_session['id']}/").status_code == 204

    assert not browser_works(browser)
    stored = UserSession.objects.get(pk=browser_session["id"])
    assert not Session.objects.filter(session_key=stored.session_key).exists()


def test_a_browser_logout_ends_its_session(user):
    browser = browser_login(user)
    sid = UserSession.objects.get(kind="browser").pk

    browser.post("/api-auth/logout/")

    assert UserSession.objects.get(pk=sid).ended_reason == "logout"


def test_a_browser_session_ended_while_its_row_survives_is_still_refused(user):
    # e.g. cookie-based or cached session engines: the session check, not the row, decides
    browser = browser_login(user)
    UserSession.objects.filter(kind="browser").update(ended_at="2026-01-01T00:00:00Z")

    assert not browser_works(browser)


def test_a_password_change_ends_browser_sessions_too(user):
    browser = browser_login(user)
    api = login(user)
    api.post(
        "/api/v1/auth/password/change/",
        {"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )

    assert not browser_works(browser)
    assert UserSession.objects.get(kind="browser").ended_reason == "password_changed"


# --- new sign-in notice -------------------------------------------------------------------


def test_a_login_from_a_new_device_sends_the_new_sign_in_notice(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(password=PASSWORD, email_verified=True)
    device = APIClient(HTTP_USER_AGENT=FIREFOX)
    body = {"email": user.email, "password": PASSWORD}

    def notices_after_login():
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert device.post("/api/v1/auth/token/", body).status_code == 200
        return [m for m in mail.outbox if "sign-in" in m.subject.lower()]

    first = notices_after_login()
    again = notices_after_login()  # the client holds the device cookie now

    assert len(first) == 1
    assert first[0].to == [user.email]
    assert "Firefox on Ubuntu" in first[0].body and "127.0.0.1" in first[0].body
    assert again == []


def test_a_browser_password_login_from_a_new_device_sends_the_notice_and_force_login_does_not(
    django_capture_on_commit_callbacks,
):
    user = UserFactory(password=PASSWORD, email_verified=True)
    with django_capture_on_commit_callbacks(execute=True):
        browser_login(user)
    with django_capture_on_commit_callbacks(execute=True):
        BrowserClient().force_login(user)

    notices = [m for m in mail.outbox if "sign-in" in m.subject.lower()]
    assert len(notices) == 1 and "Firefox on Ubuntu" in notices[0].body
    assert UserSession.objects.filter(kind="browser").count() == 2
