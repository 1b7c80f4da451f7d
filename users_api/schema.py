"""The OpenAPI schema: every operation documents each error it can answer, as RFC 9457 problems.

`RosterAutoSchema` (REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]) reads the errors off the view, so a new
view is documented without a decorator: a body or query parameters can be invalid (400), a body can
be too large (413) or have a media type other than JSON (415), authentication can fail (401), a
permission or the CSRF check can deny (403), a path or a page can be missing (404), the Accept
header can ask for what Roster does not serve (406), throttles can refuse (429), and the database
can be down (503).
`config.exceptions` produces exactly these bodies.

Generated clients read names off this schema, so they are kept readable and stable: bodies are
JSON only (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]), a request component is never named
`...RequestRequest`, and an operation anyone may call declares `security: []`.
"""

from collections import defaultdict
from http import HTTPStatus

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated

from config.exceptions import PROBLEM_CONTENT_TYPE
from users_api.permissions import RecentAuthentication

# Permissions that only ask "is there a user?": failing them is a 401, never a 403.
AUTHENTICATION_ONLY_PERMISSIONS = (AllowAny, IsAuthenticated)
UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class ProblemSerializer(serializers.Serializer):
    """An RFC 9457 problem: the body of every error Roster answers."""

    type = serializers.CharField(help_text="Always `about:blank`.")
    title = serializers.CharField(help_text="The HTTP status phrase.")
    status = serializers.IntegerField(help_text="The HTTP status code of the response.")
    detail = serializers.CharField(help_text="What went wrong, for a person.")
    code = serializers.CharField(
        required=False, help_text="A stable machine-readable reason, e.g. `token_not_valid`."
    )


class ValidationProblemSerializer(ProblemSerializer):
    """A 400 problem; `errors` holds the messages per field (absent for an unparsable body)."""

    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Messages per field name, or `non_field_errors`.",
    )


class EmptyObjectExtension(OpenApiSerializerExtension):
    """`TokenVerifiedSerializer` is the empty object `{}`: documented as a component of its own
    (drf-spectacular drops a component without properties, and generators then invent a name
    such as `AuthTokenVerifyCreateResponse200`)."""

    target_class = "users_api.serializers.TokenVerifiedSerializer"

    def map_serializer(self, auto_schema, direction):
        description = "`{}`: Roster would accept the token now."
        return {"type": "object", "additionalProperties": False, "description": description}


class WebAuthnOptionsExtension(OpenApiSerializerExtension):
    """The WebAuthn options objects are the W3C's JSON forms, passed to the browser as they are:
    an open object, named so generated clients keep a readable type."""

    target_class = "users_api.mfa_serializers.WebAuthnCreationOptionsSerializer"
    match_subclasses = False
    kind = "PublicKeyCredentialCreationOptionsJSON"

    def map_serializer(self, auto_schema, direction):
        description = f"WebAuthn's `{self.kind}`, for the browser's credentials API."
        return {"type": "object", "additionalProperties": True, "description": description}


class WebAuthnRequestOptionsExtension(WebAuthnOptionsExtension):
    target_class = "users_api.mfa_serializers.WebAuthnRequestOptionsSerializer"
    kind = "PublicKeyCredentialRequestOptionsJSON"


class MfaRequiredProblemSerializer(ProblemSerializer):
    """A 401 problem; with `code: mfa_required` it carries what finishes the login."""

    mfa_token = serializers.CharField(
        required=False, help_text="With `mfa_required`: single use, valid 5 minutes."
    )
    methods = serializers.ListField(
        child=serializers.ChoiceField(choices=["totp", "passkey", "recovery_code"]),
        required=False,
        help_text="With `mfa_required`: the second factors that can finish the login.",
    )


def _header(description, schema_type="string"):
    return {"schema": {"type": schema_type}, "description": description}


RETRY_AFTER = _header("Seconds to wait before trying again.")
ERROR_HEADERS = {
    401: {"WWW-Authenticate": _header('The challenge: `Bearer realm="api"`.')},
    429: {"Retry-After": RETRY_AFTER},
    503: {"Retry-After": RETRY_AFTER},
}


class RosterAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the problem responses each operation can answer."""

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for status, reasons in self._error_reasons(operation).items():
            responses.setdefault(str(status), self._problem_response(status, reasons))
        operation["responses"] = dict(sorted(responses.items()))
        if not self.view.get_authenticators():
            # Public: a generated client must not ask for credentials to call it.
            operation["security"] = []
        return operation

    def _get_serializer_name(self, serializer, direction, bypass_extensions=False):
        """`PasswordResetRequestSerializer`'s request body is `PasswordResetRequest`, not
        `PasswordResetRequestRequest` (COMPONENT_SPLIT_REQUEST appends `Request`)."""
        name = super()._get_serializer_name(serializer, direction, bypass_extensions)
        return name.removesuffix("Request") if name.endswith("RequestRequest") else name

    def _get_request_body(self, direction="request"):
        """A DELETE documents a body when `@extend_schema(request=...)` declares one for it
        (`DELETE users/me/` takes the password); drf-spectacular would drop it."""
        declared = self.get_request_serializer()
        if self.method != "DELETE" or not self._is_declared_for_operation(declared):
            return super()._get_request_body(direction)
        schema, required = self._get_request_for_media_type(declared, direction)
        body = {"content": {media_type: {"schema": schema} for media_type in self.map_parsers()}}
        if required:
            body["required"] = True
        return body

    def _is_declared_for_operation(self, serializer):
        """True when the serializer is not the view's own, so a decorator named it."""
        own = self._get_serializer()
        return serializer is not None and type(force_instance(serializer)) is not type(
            force_instance(own)
        )

    def _error_reasons(self, operation):
        """{status: [why this operation can answer it]} for each error status it can answer."""
        view = self.view
        parameters = operation.get("parameters", [])
        permissions = view.get_permissions()
        authenticators = view.get_authenticators()
        reasons = defaultdict(list)
        if "requestBody" in operation:
            reasons[400].append("The body is not valid; see `errors`.")
            reasons[413].append("The body is larger than the server accepts.")
            reasons[415].append("The body's Content-Type is not `application/json`.")
        if any(parameter["in"] == "query" for parameter in parameters):
            reasons[400].append("A query parameter is not valid; see `errors`.")
        if state_error := getattr(view, "state_error", None):
            reasons[400].append(state_error)
        if any(not isinstance(permission, AllowAny) for permission in permissions):
            reasons[401].append("No valid access token was sent.")
        elif authenticators:
            reasons[401].append("The Authorization header holds a bad token.")
        if getattr(view, "checks_credentials_in_body", False):
            reasons[401].append("The credentials or the token in the body are not valid.")
        if self._requires_recent_auth(permissions):
            reasons[401].append(
                "`code: reauthentication_required`: the login is older than REAUTH_WINDOW; "
                "call `auth/reauthenticate/` first."
            )
        if getattr(view, "may_answer_mfa_required", False):
            reasons[401].append(
                "`code: mfa_required`: the password is right but a second factor is on; the "
                "body carries `mfa_token` and `methods` for `auth/mfa/verify/`."
            )
        if any(not isinstance(p, AUTHENTICATION_ONLY_PERMISSIONS) for p in permissions):
            reasons[403].append("Only staff can do this.")
        if getattr(view, "reads_refresh_cookie", False):
            reasons[403].append("The refresh cookie was used without the CSRF header.")
        if self.method in UNSAFE_METHODS and any(
            isinstance(authenticator, SessionAuthentication) for authenticator in authenticators
        ):
            reasons[403].append("A session-authenticated request lacks its CSRF token.")
        if any(parameter["in"] == "path" for parameter in parameters):
            reasons[404].append("No such object, or not one you may see.")
        if self._get_paginator() and self._is_list_view():
            reasons[404].append("The page number is out of range.")
        reasons[406].append("The Accept header names neither JSON nor HTML.")
        if view.get_throttles():
            reasons[429].append("Too many requests; see `Retry-After`.")
        reasons[500].append("An unexpected error; it has been logged.")
        reasons[503].append("The database cannot be reached; see `Retry-After`.")
        return reasons

    def _requires_recent_auth(self, permissions):
        if self.method in UNSAFE_METHODS and any(
            isinstance(permission, RecentAuthentication) for permission in permissions
        ):
            return True
        operation = (self.method, getattr(self.view, "action", None))
        return operation in getattr(self.view, "recent_auth_operations", ())

    def _problem_response(self, status, reasons):
        serializer = ValidationProblemSerializer if status == 400 else ProblemSerializer
        if status == 401 and getattr(self.view, "may_answer_mfa_required", False):
            serializer = MfaRequiredProblemSerializer
        response = {
            "description": " ".join([f"{HTTPStatus(status).phrase}.", *reasons]),
            "content": {
                PROBLEM_CONTENT_TYPE: {
                    "schema": self.resolve_serializer(serializer, "response").ref
                }
            },
        }
        if status in ERROR_HEADERS:
            response["headers"] = ERROR_HEADERS[status]
        return response
