"""Names that would reshape what Roster shows: line breaks, control characters and bidi
overrides are refused at every entry point that sets a name; joiners and marks stay allowed."""

import json

import pytest
from django.core.exceptions import ValidationError

from accounts import names, policy, services
from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.test_commands import run_failing
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

BAD = [
    "Ada\r\nClick here: http://evil.example/",
    "Ada\nLovelace",
    "Ada\tLovelace",
    "Ada\x1b[31m",
    "Ada\u202egnp.exe",
    "Ada\u2067x\u2069",
]
GOOD = [
    "Ada",
    "O'Brien",
    "\u0645\u062d\u0645\u062f\u200f",
    "\u0928\u094d\u200d\u092f",
    "👩\u200d💻",
]


@pytest.mark.parametrize("name", BAD)
def test_register_refuses_a_name_that_reshapes_the_text(api_client, name):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": "ada@example.com", "password": PASSWORD, "first_name": name},
        format="json",
    )
    assert response.status_code == 400
    assert "first_name" in response.json()["errors"]
    assert not User.objects.exists()


@pytest.mark.parametrize("name", BAD)
def test_no_service_sets_such_a_name(name):
    staff = UserFactory(is_staff=True)
    user = UserFactory(first_name="Ada")
    with pytest.raises(ValidationError) as refused:
        services.user_update(actor=user, user=user, data={"last_name": name})
    assert "last_name" in str(refused.value)
    with pytest.raises(ValidationError):
        services.user_update(
            actor=staff, user=user, data={"first_name": name}, entry=policy.Entry.ADMIN
        )
    with pytest.raises(ValidationError):
        services.user_create(actor=staff, email="new@example.com", first_name=name)
    user.refresh_from_db()
    assert (user.first_name, user.last_name) == ("Ada", user.last_name)
    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.parametrize("name", GOOD)
def test_names_in_every_script_stay_allowed(name):
    assert names.problem(name) is None
    user = UserFactory()
    services.user_update(actor=user, user=user, data={"first_name": name})
    user.refresh_from_db()
    assert user.first_name == name


def test_the_user_may_not_patch_their_own_name_with_a_line_break(api_client):
    from users_api.tests.test_auth import login

    user = UserFactory(first_name="Ada")
    access = login(api_client, user.email, PASSWORD).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = api_client.patch("/api/v1/users/me/", {"first_name": BAD[0]}, format="json")
    assert response.status_code == 400
    user.refresh_from_db()
    assert user.first_name == "Ada"


def test_import_refuses_such_a_name(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps([{"email": "ada@example.com", "last_name": BAD[4]}]))
    message, err = run_failing("import_users", str(path))
    assert "nothing was written" in message and "last_name" in err
    assert not User.objects.exists()


@pytest.mark.parametrize("name", BAD)
def test_a_passkey_cannot_be_named_so(name):
    from accounts.mfa import services as mfa_services

    with pytest.raises(ValidationError) as refused:
        mfa_services.passkey_register(user=UserFactory(), credential={}, name=name)
    assert "name" in refused.value.message_dict
