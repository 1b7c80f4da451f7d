"""A new user's first minutes, through the Python client generated from Roster's schema.

    python clients/python/flow.py http://127.0.0.1:8000

Needs the generated package `roster_client` on the path (scripts/clients.sh builds it into
clients/python/generated/). Every answer is checked as the typed model the client returns: a 400 is
a `ValidationProblem`, a 401 a `Problem`. Exits non-zero at the first surprise.
"""

import contextlib
import secrets
import sys

from roster_client import AuthenticatedClient, Client
from roster_client.api.auth import (
    auth_logout_create,
    auth_register_create,
    auth_token_create,
    auth_token_refresh_create,
    auth_token_verify_create,
)
from roster_client.api.users import users_me_partial_update, users_me_retrieve
from roster_client.models import (
    LoginRequest,
    PatchedProfileRequest,
    Problem,
    Profile,
    RefreshTokenRequest,
    RegistrationRequest,
    TokenPair,
    TokenVerified,
    TokenVerifyRequest,
    User,
    ValidationProblem,
)


class FlowFailed(Exception):
    pass


def expect(condition, what):
    if not condition:
        raise FlowFailed(what)
    print(f"ok   {what}")


def run(base_url, clients):
    public = clients.enter_context(Client(base_url=base_url, raise_on_unexpected_status=True))

    def authenticated(token):
        return clients.enter_context(AuthenticatedClient(base_url=base_url, token=token))

    email = f"python-client-{secrets.token_hex(6)}@example.com"
    password = secrets.token_urlsafe(18)

    registration = RegistrationRequest(email=email, password=password, first_name="Grace")
    created = auth_register_create.sync_detailed(client=public, body=registration)
    expect(created.status_code == 201 and isinstance(created.parsed, User), "register: 201 User")
    expect(created.parsed.email == email and not created.parsed.email_verified, "the new user")

    again = auth_register_create.sync_detailed(client=public, body=registration)
    problem = again.parsed
    expect(again.status_code == 400 and isinstance(problem, ValidationProblem), "duplicate: 400")
    expect(problem.status == 400 and "email" in problem.errors, "ValidationProblem names `email`")

    login = auth_token_create.sync(client=public, body=LoginRequest(email=email, password=password))
    expect(isinstance(login, TokenPair) and login.access and login.refresh, "log in: TokenPair")

    verified = auth_token_verify_create.sync(
        client=public, body=TokenVerifyRequest(token=login.access)
    )
    expect(isinstance(verified, TokenVerified), "verify the access token: TokenVerified")

    me_client = authenticated(login.access)
    me = users_me_retrieve.sync(client=me_client)
    expect(isinstance(me, Profile) and me.email == email, "read me: Profile")

    patch = PatchedProfileRequest(first_name="Ada", last_name="Lovelace")
    patched = users_me_partial_update.sync(client=me_client, body=patch)
    expect(isinstance(patched, Profile), "patch me: Profile")
    expect((patched.first_name, patched.last_name) == ("Ada", "Lovelace"), "names changed")
    expect(users_me_retrieve.sync(client=me_client).first_name == "Ada", "and stored")

    stranger = authenticated("not-a-token")
    refused = users_me_retrieve.sync_detailed(client=stranger)
    expect(refused.status_code == 401 and isinstance(refused.parsed, Problem), "bad token: 401")
    expect(refused.parsed.status == 401 and refused.parsed.title, "Problem says why")
    expect(refused.headers["www-authenticate"].startswith("Bearer"), "with a Bearer challenge")

    rotated = auth_token_refresh_create.sync(
        client=public, body=RefreshTokenRequest(refresh=login.refresh)
    )
    expect(isinstance(rotated, TokenPair) and rotated.refresh != login.refresh, "refresh: rotated")
    me_client = authenticated(rotated.access)
    expect(users_me_retrieve.sync(client=me_client).email == email, "the new access token works")

    logout = auth_logout_create.sync_detailed(
        client=public, body=RefreshTokenRequest(refresh=rotated.refresh)
    )
    expect(logout.status_code == 204, "log out: 204")
    ended = users_me_retrieve.sync_detailed(client=me_client)
    expect(ended.status_code == 401 and isinstance(ended.parsed, Problem), "its access token: 401")
    spent = auth_token_refresh_create.sync_detailed(
        client=public, body=RefreshTokenRequest(refresh=rotated.refresh)
    )
    expect(spent.status_code == 401 and isinstance(spent.parsed, Problem), "spent refresh: 401")


if __name__ == "__main__":
    try:
        with contextlib.ExitStack() as open_clients:
            run(sys.argv[1], open_clients)
    except FlowFailed as failure:
        sys.exit(f"FAIL {failure}")
    print("Python client flow: all steps passed")
