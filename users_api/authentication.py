"""Bearer authentication that honours sessions: an access token is refused the moment its
session (`sid`) ends, whatever ended it, on every app server alike."""

from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from accounts import tokens

SESSION_ENDED = "The token's session has ended, or its user can no longer log in."


class SessionJWTAuthentication(JWTAuthentication):
    """SimpleJWT's bearer authentication, with the session check joined into its one query:
    the user is read only if `sid` is one of their open sessions. Tokens without `sid` are
    refused."""

    def get_user(self, validated_token):
        user_id = validated_token.get(jwt_settings.USER_ID_CLAIM)
        sid = tokens.session_id(validated_token)
        if not user_id or sid is None:
            raise InvalidToken("The token carries no user or no session.")
        user = tokens.session_user(user_id, sid)
        if not tokens.token_user_is_current(user, validated_token):
            raise AuthenticationFailed(SESSION_ENDED, code="session_ended")
        return user


class SessionJWTScheme(SimpleJWTScheme):
    """The OpenAPI `jwtAuth` bearer scheme, for the session-checking subclass."""

    target_class = SessionJWTAuthentication
