"""The OpenAPI schema a client downloads: every answer documented, problems for every error."""

import re

import pytest

PROBLEM = "application/problem+json"
EVERY_OPERATION = {"406", "500", "503"}


@pytest.fixture
def schema(api_client):
    response = api_client.get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path.removeprefix('/api/v1/')}", operation


def test_schema_is_openapi_3_and_declares_the_bearer_scheme(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["components"]["securitySchemes"]["jwtAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
    }
    assert {"jwtAuth": []} in schema["paths"]["/api/v1/users/me/"]["get"]["security"]


@pytest.mark.parametrize(
    ("operation_name", "statuses"),
    [
        ("POST auth/register/", {"201", "400", "413", "415", "429"}),
        ("POST auth/token/", {"200", "400", "401", "413", "415", "429"}),
        ("POST auth/token/refresh/", {"200", "400", "401", "403", "413", "415", "429"}),
        ("POST auth/token/verify/", {"200", "400", "401", "413", "415", "429"}),
        ("POST auth/logout/", {"204", "400", "401", "403", "413", "415", "429"}),
        ("POST auth/email/verify/", {"204", "400", "413", "415", "429"}),
        ("POST auth/email/resend/", {"202", "401", "403", "429"}),
        ("POST auth/password/change/", {"204", "400", "401", "403", "413", "415", "429"}),
        ("POST auth/password/reset/", {"202", "400", "413", "415", "429"}),
        ("POST auth/password/reset/confirm/", {"204", "400", "413", "415", "429"}),
        ("GET users/", {"200", "400", "401", "403", "404", "429"}),
        ("POST users/", {"201", "400", "401", "403", "413", "415", "429"}),
        ("GET users/{id}/", {"200", "401", "404", "429"}),
        ("PUT users/{id}/", {"200", "400", "401", "403", "404", "413", "415", "429"}),
        ("PATCH users/{id}/", {"200", "400", "401", "403", "404", "413", "415", "429"}),
        ("DELETE users/{id}/", {"204", "401", "403", "404", "429"}),
        ("GET users/me/", {"200", "401", "429"}),
        ("PATCH users/me/", {"200", "400", "401", "403", "413", "415", "429"}),
        ("DELETE users/me/", {"204", "400", "401", "403", "413", "415", "429"}),
    ],
)
def test_each_operation_documents_exactly_the_statuses_it_can_answer(
    schema, operation_name, statuses
):
    documented = dict(operations(schema))[operation_name]["responses"]

    assert set(documented) == statuses | EVERY_OPERATION


def test_every_error_is_documented_as_a_problem(schema):
    for name, operation in operations(schema):
        for status, response in operation["responses"].items():
            if int(status) < 400:
                continue
            expected = "ValidationProblem" if status == "400" else "Problem"
            if (name, status) == ("POST auth/token/", "401"):
                expected = "MfaRequiredProblem"  # a Problem, plus mfa_token and methods
            assert response["content"] == {
                PROBLEM: {"schema": {"$ref": f"#/components/schemas/{expected}"}}
            }, (name, status)
            assert response["description"], (name, status)


def test_waiting_and_challenge_headers_are_documented(schema):
    for name, operation in operations(schema):
        responses = operation["responses"]
        assert "Retry-After" in responses["503"]["headers"], name
        assert "Retry-After" in responses["429"]["headers"], name
        if "401" in responses:
            assert "WWW-Authenticate" in responses["401"]["headers"], name


def test_problem_components_match_rfc_9457_and_the_400_errors_member(schema):
    components = schema["components"]["schemas"]
    problem, validation = components["Problem"], components["ValidationProblem"]

    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert set(problem["properties"]) == {"type", "title", "status", "detail", "code"}
    assert "errors" not in problem["properties"]
    assert validation["properties"]["errors"]["additionalProperties"] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_closing_your_account_documents_the_password_body(schema):
    body = schema["paths"]["/api/v1/users/me/"]["delete"]["requestBody"]

    assert body["required"] is True
    assert body["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/AccountCloseRequest"
    }


@pytest.mark.parametrize("page", ["/api/v1/docs/", "/api/v1/redoc/"])
def test_docs_pages_load_their_assets_from_roster_not_a_cdn(client, page):
    response = client.get(page, HTTP_ACCEPT="text/html")
    html = response.content.decode()

    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/" in html
    assert not re.search(r"(src|href)=\"(https?:)?//", html)


@pytest.mark.parametrize(
    "name",
    [
        "POST auth/mfa/totp/",
        "DELETE auth/mfa/totp/",
        "POST auth/mfa/recovery-codes/",
        "POST auth/passkeys/register/options/",
        "POST auth/passkeys/register/",
        "DELETE auth/passkeys/{passkey_id}/",
        "POST auth/password/change/",
        "DELETE users/me/",
        "PATCH users/{id}/",
    ],
)
def test_sensitive_operations_document_reauthentication_required(schema, name):
    documented = dict(operations(schema))[name]["responses"]["401"]["description"]
    assert "reauthentication_required" in documented


def test_the_token_endpoint_documents_mfa_required_with_its_token(schema):
    response = dict(operations(schema))["POST auth/token/"]["responses"]["401"]
    assert "mfa_required" in response["description"]
    component = schema["components"]["schemas"]["MfaRequiredProblem"]
    assert {"mfa_token", "methods"} <= set(component["properties"])
    assert "reauthentication_required" not in response["description"]


# Generated clients name their functions and classes after these: renaming one breaks every
# client built on the schema, so they only ever grow (new operations add names, none change).
STABLE_OPERATION_IDS = {
    "auth_register_create",
    "auth_token_create",
    "auth_token_refresh_create",
    "auth_token_verify_create",
    "auth_logout_create",
    "auth_email_verify_create",
    "auth_email_resend_create",
    "auth_password_change_create",
    "auth_password_reset_create",
    "auth_password_reset_confirm_create",
    "users_list",
    "users_create",
    "users_retrieve",
    "users_update",
    "users_partial_update",
    "users_destroy",
    "users_me_retrieve",
    "users_me_partial_update",
    "users_me_destroy",
    "auth_sessions_list",
    "auth_sessions_destroy",
    "auth_sessions_revoke_others_create",
    "users_sessions_list",
    "users_sessions_destroy",
}
STABLE_COMPONENTS = {
    "AccountCloseRequest",
    "EmailVerificationRequest",
    "LoginRequest",
    "PaginatedUserList",
    "PasswordChangeRequest",
    "PasswordResetConfirmRequest",
    "PasswordResetRequest",
    "PatchedProfileRequest",
    "PatchedUserRequest",
    "Problem",
    "Profile",
    "RefreshTokenRequest",
    "RegistrationRequest",
    "Session",
    "SessionKindEnum",
    "TokenPair",
    "TokenVerified",
    "TokenVerifyRequest",
    "User",
    "UserCreate",
    "UserCreateRequest",
    "UserRequest",
    "ValidationProblem",
}
PUBLIC_OPERATIONS = {
    "POST auth/register/",
    "POST auth/token/",
    "POST auth/token/refresh/",
    "POST auth/token/verify/",
    "POST auth/logout/",
    "POST auth/email/verify/",
    "POST auth/password/reset/",
    "POST auth/password/reset/confirm/",
}


def test_operation_ids_and_component_names_stay_as_clients_know_them(schema):
    operation_ids = [operation["operationId"] for _name, operation in operations(schema)]
    components = set(schema["components"]["schemas"])

    assert set(operation_ids) >= STABLE_OPERATION_IDS
    assert len(operation_ids) == len(set(operation_ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", name) for name in operation_ids), operation_ids
    assert components >= STABLE_COMPONENTS
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", name) for name in components), components
    assert not [name for name in components if name.endswith("RequestRequest")]


def test_every_request_body_is_json_only(schema):
    bodies = {
        name: set(operation["requestBody"]["content"])
        for name, operation in operations(schema)
        if "requestBody" in operation
    }

    assert bodies
    assert {name: {"application/json"} for name in bodies} == bodies


def test_public_operations_ask_for_no_credentials_and_the_others_for_a_bearer_token(schema):
    security = {name: operation.get("security") for name, operation in operations(schema)}

    for name in PUBLIC_OPERATIONS:
        assert security[name] == [], name
    for name, requirement in security.items():
        if name not in PUBLIC_OPERATIONS and requirement != []:
            assert {"jwtAuth": []} in requirement, name


def test_every_body_is_a_named_component_so_generators_invent_no_names(schema):
    def named(body_schema):
        if body_schema.get("type") == "array":
            return named(body_schema["items"])
        return set(body_schema) == {"$ref"}

    for name, operation in operations(schema):
        bodies = [operation.get("requestBody", {}), *operation["responses"].values()]
        for body in bodies:
            for media in body.get("content", {}).values():
                assert named(media["schema"]), name
