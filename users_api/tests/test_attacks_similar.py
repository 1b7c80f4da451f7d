"""A password like the user's own email or name is refused at every entry point that sets one."""

import json

import pytest

from accounts.links import encode_uid, password_reset_tokens
from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.test_commands import run_failing
from conftest import PASSWORD
from users_api.tests.test_auth import login

pytestmark = pytest.mark.django_db

EMAIL = "marguerite.lovelace@example.com"
NAME = "Margueritelovelace"


def _refused(response, field):
    assert response.status_code == 400, response.content
    assert "similar" in json.dumps(response.json()["errors"][field])


@pytest.mark.parametrize("password", [EMAIL, "marguerite.lovelace", NAME.lower() + "!"])
def test_register_refuses_a_password_like_the_email_or_name(api_client, password):
    response = api_client.post(
        "/api/v1/auth/register/",
        {"email": EMAIL, "password": password, "first_name": NAME},
        format="json",
    )
    _refused(response, "password")
    assert not User.objects.exists()


def test_password_change_refuses_the_users_own_email(api_client):
    UserFactory(email=EMAIL)
    access = login(api_client, EMAIL, PASSWORD).json()["access"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    response = api_client.post(
        "/api/v1/auth/password/change/",
        {"current_password": PASSWORD, "new_password": EMAIL},
        format="json",
    )
    _refused(response, "new_password")


def test_reset_confirm_refuses_the_users_own_name(api_client):
    user = UserFactory(email="x7@example.com", first_name=NAME)
    response = api_client.post(
        "/api/v1/auth/password/reset/confirm/",
        {
            "uid": encode_uid(user),
            "token": password_reset_tokens.make_token(user),
            "new_password": NAME.lower(),
        },
        format="json",
    )
    _refused(response, "new_password")


def test_import_refuses_a_password_like_the_rows_email(tmp_path):
    path = tmp_path / "users.json"
    path.write_text(json.dumps([{"email": EMAIL, "password": EMAIL}]))
    message, err = run_failing("import_users", str(path))
    assert "nothing was written" in message and "similar" in err
    assert not User.objects.exists()
