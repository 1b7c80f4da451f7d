"""Second factors, passkeys and recent authentication through the API (DESIGN.md)."""

import json
import time
from datetime import timedelta

import pyotp
import pytest
import time_machine
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from accounts.mfa.models import Passkey, PendingLogin
from accounts.mfa.tests.authenticator import SoftAuthenticator
from accounts.tests.factories import UserFactory
from accounts.tokens import issue_token_pair
from conftest import PASSWORD, bearer_client

AUTH = "/api/v1/auth/"
pytestmark = pytest.mark.django_db


def stale_client(user, minutes=11):
    """A client whose login is older than the reauthentication window."""
    client = APIClient()
    pair = issue_token_pair(user, auth_time=int(time.time()) - minutes * 60)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair['access']}")
    client.sid = claims(pair)["sid"]
    return client


def enable_totp(client):
    secret = client.post(f"{AUTH}mfa/totp/").json()["secret"]
    code = pyotp.TOTP(secret).at(time.time() - 30)  # the previous step: this step stays unused
    response = client.post(f"{AUTH}mfa/totp/confirm/", {"code": code})
    assert response.status_code == 200, response.json()
    return secret, response.json()["recovery_codes"]


def register_passkey(client, authenticator=None, name="Laptop"):
    authenticator = authenticator or SoftAuthenticator()
    options = client.post(f"{AUTH}passkeys/register/options/").json()
    response = client.post(
        f"{AUTH}passkeys/register/",
        {"credential": authenticator.create(options), "name": name},
    )
    assert response.status_code == 201, response.json()
    return authenticator, response.json()


def password_login(user):
    return APIClient().post(f"{AUTH}token/", {"email": user.email, "password": PASSWORD})


def assertion(authenticator):
    options = APIClient().post(f"{AUTH}passkeys/login/options/").json()
    return authenticator.get(options)


def claims(body):
    return AccessToken(body["access"]).payload


def test_totp_login_answers_mfa_required_then_verify_issues_otp_tokens(user, auth_client):
    secret, codes = enable_totp(auth_client)

    first = password_login(user)
    assert first.status_code == 401
    assert first["Content-Type"] == "application/problem+json"
    assert first["WWW-Authenticate"].startswith("Bearer")
    body = first.json()
    assert body["code"] == "mfa_required"
    assert body["methods"] == ["totp", "recovery_code"]
    assert "access" not in body and "refresh" not in body
    assert PendingLogin.objects.get().digest != body["mfa_token"]  # stored hashed

    verify = APIClient().post(
        f"{AUTH}mfa/verify/", {"mfa_token": body["mfa_token"], "code": pyotp.TOTP(secret).now()}
    )
    assert verify.status_code == 200, verify.json()
    payload = claims(verify.json())
    assert payload["amr"] == ["pwd", "otp"]
    assert abs(payload["auth_time"] - time.time()) < 5
    assert len(codes) == 10


def test_the_mfa_token_works_once(user, auth_client):
    enable_totp(auth_client)
    token = password_login(user).json()["mfa_token"]
    codes = auth_client.post(f"{AUTH}mfa/recovery-codes/").json()["recovery_codes"]

    ok = APIClient().post(f"{AUTH}mfa/verify/", {"mfa_token": token, "code": codes[0]})
    again = APIClient().post(f"{AUTH}mfa/verify/", {"mfa_token": token, "code": codes[1]})

    assert ok.status_code == 200
    assert again.status_code == 401
    assert again.json()["code"] == "mfa_token_invalid"


def test_the_mfa_token_expires_after_five_minutes(user, auth_client):
    _, codes = enable_totp(auth_client)
    token = password_login(user).json()["mfa_token"]

    with time_machine.travel(timedelta(minutes=5, seconds=1)):
        late = APIClient().post(f"{AUTH}mfa/verify/", {"mfa_token": token, "code": codes[0]})

    assert late.status_code == 401
    assert late.json()["code"] == "mfa_token_invalid"


def test_a_wrong_code_keeps_the_token_and_counts_in_the_login_gate(user, auth_client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login_failures": "2/15m"}
    _, codes = enable_totp(auth_client)
    token = password_login(user).json()["mfa_token"]
    client = APIClient()

    wrong = [
        client.post(f"{AUTH}mfa/verify/", {"mfa_token": token, "code": "123456"}) for _ in "ab"
    ]
    locked = client.post(f"{AUTH}mfa/verify/", {"mfa_token": token, "code": codes[0]})

    assert [r.status_code for r in wrong] == [401, 401]
    assert wrong[0].json()["code"] == "invalid_second_factor"
    assert locked.status_code == 429 and "Retry-After" in locked


def test_a_recovery_code_finishes_a_login_once(user, auth_client):
    _, codes = enable_totp(auth_client)

    def finish(code):
        token = password_login(user).json()["mfa_token"]
        return APIClient().post(f"{AUTH}mfa/verify/", {"mfa_token": token, "code": code})

    assert finish(codes[0]).status_code == 200
    assert finish(codes[0]).status_code == 401
    assert auth_client.get(f"{AUTH}mfa/").json()["recovery_codes_left"] == 9


def test_a_passkey_as_second_factor_gives_hwk(user, auth_client):
    authenticator, created = register_passkey(auth_client)
    assert len(created["recovery_codes"]) == 10  # the first factor

    body = password_login(user).json()
    assert body["methods"] == ["passkey", "recovery_code"]
    verify = APIClient().post(
        f"{AUTH}mfa/verify/",
        {"mfa_token": body["mfa_token"], "credential": assertion(authenticator)},
    )

    assert verify.status_code == 200, verify.json()
    assert claims(verify.json())["amr"] == ["pwd", "hwk"]
    assert Passkey.objects.get().sign_count == 1


def test_passwordless_login_with_a_passkey(user, auth_client):
    authenticator, _ = register_passkey(auth_client)

    response = APIClient().post(f"{AUTH}passkeys/login/", {"credential": assertion(authenticator)})

    assert response.status_code == 200, response.json()
    payload = claims(response.json())
    assert payload["amr"] == ["hwk"]
    assert payload["user_id"] == str(user.pk)
    user.refresh_from_db()
    assert user.last_login is not None


def test_passwordless_login_needs_user_verification(user, auth_client):
    authenticator, _ = register_passkey(auth_client)
    authenticator.user_verified = False

    response = APIClient().post(f"{AUTH}passkeys/login/", {"credential": assertion(authenticator)})

    assert response.status_code == 401


def test_a_cloned_authenticator_is_refused(user, auth_client):
    authenticator, _ = register_passkey(auth_client)
    clone = authenticator.clone()
    login = APIClient().post(f"{AUTH}passkeys/login/", {"credential": assertion(authenticator)})
    assert login.status_code == 200

    # the clone's counter stands where the original's was: it has not moved past the server's
    replay = APIClient().post(f"{AUTH}passkeys/login/", {"credential": assertion(clone)})

    assert replay.status_code == 401
    assert Passkey.objects.get().sign_count == 1


def test_a_challenge_and_an_assertion_work_once(user, auth_client):
    authenticator, _ = register_passkey(auth_client)
    credential = assertion(authenticator)

    first = APIClient().post(f"{AUTH}passkeys/login/", {"credential": credential})
    again = APIClient().post(f"{AUTH}passkeys/login/", {"credential": credential})

    assert (first.status_code, again.status_code) == (200, 401)


def test_anothers_passkey_does_not_finish_my_login(user, auth_client, other_user):
    enable_totp(auth_client)
    theirs, _ = register_passkey(bearer_client(other_user))
    token = password_login(user).json()["mfa_token"]

    response = APIClient().post(
        f"{AUTH}mfa/verify/", {"mfa_token": token, "credential": assertion(theirs)}
    )

    assert response.status_code == 401


def test_a_passkey_from_another_origin_is_refused(user, auth_client):
    options = auth_client.post(f"{AUTH}passkeys/register/options/").json()
    phishing = SoftAuthenticator(origin="https://roster.example.net")

    response = auth_client.post(
        f"{AUTH}passkeys/register/", {"credential": phishing.create(options), "name": "x"}
    )

    assert response.status_code == 400
    assert not Passkey.objects.exists()


def test_passkeys_are_listed_and_deleted_by_their_owner_only(user, auth_client, other_user):
    _, created = register_passkey(auth_client, name="Phone")
    listed = auth_client.get(f"{AUTH}passkeys/").json()
    assert [p["name"] for p in listed] == ["Phone"]

    stranger = bearer_client(other_user).delete(f"{AUTH}passkeys/{created['id']}/")
    mine = auth_client.delete(f"{AUTH}passkeys/{created['id']}/")

    assert (stranger.status_code, mine.status_code) == (404, 204)
    assert password_login(user).status_code == 200  # no factor left: the password suffices


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "mfa/totp/", {}),
        ("delete", "mfa/totp/", {}),
        ("post", "mfa/recovery-codes/", {}),
        ("post", "passkeys/register/options/", {}),
        ("post", "passkeys/register/", {"credential": {}, "name": "x"}),
        ("post", "password/change/", {"current_password": PASSWORD, "new_password": "x" * 20}),
    ],
)
def test_sensitive_changes_need_a_recent_login(user, method, path, body):
    response = getattr(stale_client(user), method)(f"{AUTH}{path}", body)

    assert response.status_code == 401
    assert response.json()["code"] == "reauthentication_required"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_closing_the_account_needs_a_recent_login(user):
    response = stale_client(user).delete("/api/v1/users/me/", {"password": PASSWORD})

    assert response.json()["code"] == "reauthentication_required"
    user.refresh_from_db()
    assert user.is_active


def test_granting_staff_needs_a_recent_login_but_renaming_does_not(user, db):
    boss = UserFactory(password=PASSWORD, is_staff=True, is_superuser=True)
    stale = stale_client(boss)

    grant = stale.patch(f"/api/v1/users/{user.pk}/", {"is_staff": True})
    rename = stale.patch(f"/api/v1/users/{user.pk}/", {"first_name": "Renamed"})

    assert grant.status_code == 401 and grant.json()["code"] == "reauthentication_required"
    assert rename.status_code == 200
    user.refresh_from_db()
    assert not user.is_staff


def test_the_window_is_reauth_window(user, settings):
    settings.REAUTH_WINDOW = timedelta(minutes=30)

    response = stale_client(user, minutes=20).post(f"{AUTH}mfa/totp/")

    assert response.status_code == 200


def test_reauthenticate_with_the_password_renews_auth_time(user):
    stale = stale_client(user)

    wrong = stale.post(f"{AUTH}reauthenticate/", {"password": "not-the-password"})
    right = stale.post(f"{AUTH}reauthenticate/", {"password": PASSWORD})

    assert wrong.status_code == 400 and "password" in wrong.json()["errors"]
    assert right.status_code == 200
    assert abs(claims(right.json())["auth_time"] - time.time()) < 5
    assert claims(right.json())["sid"] == stale.sid  # the same session, renewed
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {right.json()['access']}")
    assert fresh.post(f"{AUTH}mfa/totp/").status_code == 200


def test_reauthenticate_with_a_second_factor(user, auth_client):
    secret, _ = enable_totp(auth_client)
    authenticator, _ = register_passkey(auth_client)
    stale = stale_client(user)

    by_code = stale.post(f"{AUTH}reauthenticate/", {"code": pyotp.TOTP(secret).now()})
    by_passkey = stale.post(f"{AUTH}reauthenticate/", {"credential": assertion(authenticator)})

    assert claims(by_code.json())["amr"] == ["otp"]
    assert claims(by_passkey.json())["amr"] == ["hwk"]


def test_reauthenticate_takes_exactly_one_proof(user, auth_client):
    response = auth_client.post(f"{AUTH}reauthenticate/", {"password": PASSWORD, "code": "1"})

    assert response.status_code == 400


def test_refresh_keeps_amr_and_auth_time(user, auth_client):
    secret, _ = enable_totp(auth_client)
    token = password_login(user).json()["mfa_token"]
    pair = (
        APIClient()
        .post(f"{AUTH}mfa/verify/", {"mfa_token": token, "code": pyotp.TOTP(secret).now()})
        .json()
    )
    logged_in_at = claims(pair)["auth_time"]

    with time_machine.travel(timedelta(minutes=11)):
        refreshed = APIClient().post(f"{AUTH}token/refresh/", {"refresh": pair["refresh"]}).json()
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed['access']}")
        # a refresh is not a new proof of identity
        assert client.post(f"{AUTH}mfa/totp/").json()["code"] == "reauthentication_required"
        assert claims(refreshed)["amr"] == ["pwd", "otp"]
        assert claims(refreshed)["auth_time"] == logged_in_at


@pytest.mark.parametrize(
    "credential",
    [
        {},
        {"id": "x", "response": {"clientDataJSON": "!!!"}},
        {"id": "x" * 5000, "rawId": 5, "response": {"clientDataJSON": "e30"}},
        {"response": {"clientDataJSON": "eyJjaGFsbGVuZ2UiOiBbMV19"}},
    ],
)
def test_malformed_credentials_are_4xx(user, auth_client, credential):
    for path in ("passkeys/login/", "passkeys/register/"):
        response = auth_client.post(f"{AUTH}{path}", {"credential": credential, "name": "n"})
        assert 400 <= response.status_code < 500, (path, response.content)


def test_overview_lists_the_factors(user, auth_client):
    enable_totp(auth_client)
    register_passkey(auth_client, name="Key")

    body = auth_client.get(f"{AUTH}mfa/").json()

    assert body["totp"] is True
    assert [p["name"] for p in body["passkeys"]] == ["Key"]
    assert body["recovery_codes_left"] == 10


def test_a_passkey_registers_once_and_keeps_only_known_transports(user, auth_client):
    authenticator = SoftAuthenticator()
    options = auth_client.post(f"{AUTH}passkeys/register/options/").json()
    credential = authenticator.create(options)
    credential["response"]["transports"] = [
        "usb",
        {"x": 1},
        "smoke-signal",
        ["internal"],
        "internal",
    ]

    first = auth_client.post(f"{AUTH}passkeys/register/", {"credential": credential, "name": "A"})
    options = auth_client.post(f"{AUTH}passkeys/register/options/").json()
    again = auth_client.post(
        f"{AUTH}passkeys/register/", {"credential": authenticator.create(options), "name": "B"}
    )

    assert first.status_code == 201, first.json()
    assert Passkey.objects.get().transports == ["internal", "usb"]
    assert again.status_code == 400
    assert Passkey.objects.count() == 1


BAD_VALUES = ["\ud800", "a\x00b", "x" * 100_000, 12, None, [], {"a": 1}, True, "", {}, 0, False]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_no_input_shape_answers_5xx(user, auth_client, value):
    enable_totp(auth_client)
    token = password_login(user).json()["mfa_token"]
    bodies = {
        "mfa/verify/": [{"mfa_token": value, "code": "1"}, {"mfa_token": token, "code": value}],
        "mfa/totp/confirm/": [{"code": value}],
        "reauthenticate/": [{"password": value}, {"code": value}, {"credential": value}],
        "passkeys/login/": [
            {"credential": value},
            {"credential": {"id": value, "response": value}},
        ],
        "passkeys/register/": [
            {"credential": {"response": {"clientDataJSON": value}}, "name": value}
        ],
    }
    for path, cases in bodies.items():
        for body in cases:
            raw = json.dumps(body)  # ASCII escapes: a lone surrogate arrives as sent
            response = auth_client.post(f"{AUTH}{path}", raw, content_type="application/json")
            assert 400 <= response.status_code < 500, (path, body, response.status_code)
