"""The `auth/` endpoints: thin views over `accounts.services` and `accounts.tokens`."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts import login_gate, ratelimit, services, tokens
from accounts.mfa import services as mfa_services
from config.exceptions import PROBLEM_CONTENT_TYPE, problem
from users_api import refresh_cookie
from users_api.permissions import RecentAuthentication
from users_api.serializers import (
    EmailVerificationSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    RefreshTokenSerializer,
    RegistrationSerializer,
    TokenPairSerializer,
    TokenVerifiedSerializer,
    TokenVerifySerializer,
    UserSerializer,
)
from users_api.throttles import (
    EmailResendThrottle,
    PasswordResetEmailThrottle,
    PasswordResetThrottle,
    RefreshThrottle,
    RegisterEmailThrottle,
    RegisterThrottle,
)

TOKEN_INVALID = "Token is invalid or expired."  # noqa: S105 - a message, not a secret
# SimpleJWT's words for a failed login, kept so clients that matched on them still do.
NO_ACTIVE_ACCOUNT = "No active account found with the given credentials"
MFA_REQUIRED = "A second factor is required: send it with the mfa_token to auth/mfa/verify/."


def mfa_required_response(request, user):
    """The answer to a correct password of a user with a second factor: 401 `mfa_required` with a
    single-use `mfa_token` and the methods that can finish the login."""
    body = problem(401, MFA_REQUIRED, code="mfa_required")
    body["mfa_token"] = mfa_services.pending_login_start(user=user)
    body["methods"] = mfa_services.methods(user)
    return Response(
        body,
        status=401,
        content_type=PROBLEM_CONTENT_TYPE,
        headers={"WWW-Authenticate": JWTAuthentication().authenticate_header(request)},
    )


class PublicView(APIView):
    """Anyone may call it; a stale Authorization header is ignored rather than answered with 401."""

    authentication_classes = []
    permission_classes = [AllowAny]

    # True on the views that answer 401 for credentials or a token sent in the body (the schema
    # documents it).
    checks_credentials_in_body = False

    def get_authenticate_header(self, request):
        # Bad tokens here must answer 401 with the API's challenge (DRF sends 403 without one).
        return JWTAuthentication().authenticate_header(request)

    def validated(self, serializer_class):
        serializer = serializer_class(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


class RegisterView(PublicView):
    throttle_classes = [RegisterThrottle, RegisterEmailThrottle]

    @extend_schema(request=RegistrationSerializer, responses={201: UserSerializer})
    def post(self, request):
        """Create an account and send the verification email."""
        user = services.user_register(**self.validated(RegistrationSerializer))
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainView(PublicView):
    """Log in with email and password, through the login gate (attempts per IP, failures per
    account, a known device exempt from a stranger's lockout)."""

    checks_credentials_in_body = True
    may_answer_mfa_required = True

    @extend_schema(request=LoginSerializer, responses={200: TokenPairSerializer})
    def post(self, request):
        """Exchange email and password for an access and a refresh token."""
        data = self.validated(LoginSerializer)
        client = login_gate.Client.of(request)
        try:
            user = services.login(email=data["email"], password=data["password"], client=client)
        except login_gate.WrongCredentials as exc:
            raise AuthenticationFailed(NO_ACTIVE_ACCOUNT, code="no_active_account") from exc
        if mfa_services.has_second_factor(user):
            return mfa_required_response(request, user)
        pair = tokens.issue_token_pair(user, client=client)
        response = token_pair_response(request, pair, in_cookie=data["refresh_in_cookie"])
        login_gate.remember_device(response, client=client, user=user)
        return response


class TokenRefreshView(PublicView):
    checks_credentials_in_body = True
    reads_refresh_cookie = True
    throttle_classes = [RefreshThrottle]

    @extend_schema(request=RefreshTokenSerializer, responses={200: TokenPairSerializer})
    def post(self, request):
        """Rotate: the refresh token (from the body, else the cookie with the CSRF header) is
        spent and a new pair of the same session returned. Reuse ends the whole session."""
        raw, from_cookie = refresh_cookie.refresh_from(
            request, self.validated(RefreshTokenSerializer).get("refresh")
        )
        try:
            # The client's address as the throttles see it (through NUM_PROXIES), not the proxy's.
            pair = tokens.rotate_refresh_token(raw, ip=ratelimit.client_ip(request.META))
        except (tokens.InvalidRefreshToken, tokens.RefreshTokenReused) as exc:
            raise AuthenticationFailed(TOKEN_INVALID, code="token_not_valid") from exc
        return token_pair_response(request, pair, in_cookie=from_cookie)


class TokenVerifyView(PublicView):
    checks_credentials_in_body = True

    @extend_schema(request=TokenVerifySerializer, responses={200: TokenVerifiedSerializer})
    def post(self, request):
        """200 `{}` when Roster would accept the token now, else 401."""
        if not tokens.verify_token(self.validated(TokenVerifySerializer)["token"]):
            raise AuthenticationFailed(TOKEN_INVALID, code="token_not_valid")
        return Response({})


class LogoutView(PublicView):
    checks_credentials_in_body = True
    reads_refresh_cookie = True

    @extend_schema(request=RefreshTokenSerializer, responses={204: None})
    def post(self, request):
        """End the refresh token's session (idempotent): its refresh and access tokens stop
        working at once. The token comes from the body, else the cookie (with the CSRF
        header)."""
        raw, from_cookie = refresh_cookie.refresh_from(
            request, self.validated(RefreshTokenSerializer).get("refresh")
        )
        try:
            tokens.blacklist_refresh_token(raw)
        except tokens.InvalidRefreshToken as exc:
            raise AuthenticationFailed(TOKEN_INVALID, code="token_not_valid") from exc
        response = Response(status=status.HTTP_204_NO_CONTENT)
        if from_cookie:
            refresh_cookie.delete_refresh_cookie(response)
        return response


class EmailVerifyView(PublicView):
    @extend_schema(request=EmailVerificationSerializer, responses={204: None})
    def post(self, request):
        """Confirm the address with the uid and token from the email link (single use)."""
        services.email_verify(**_uid_token(self.validated(EmailVerificationSerializer)))
        return Response(status=status.HTTP_204_NO_CONTENT)


class EmailResendView(APIView):
    permission_classes = [IsAuthenticated]
    throttle_classes = [EmailResendThrottle]

    @extend_schema(request=None, responses={202: None})
    def post(self, request):
        """Send the verification email again (nothing is sent for a verified address)."""
        services.verification_email_send(user=request.user)
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordChangeView(APIView):
    permission_classes = [IsAuthenticated, RecentAuthentication]

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        """Change the password; every earlier token of the user stops working."""
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_change(
            user=request.user, client=login_gate.Client.of(request), **data.validated_data
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordResetView(PublicView):
    throttle_classes = [PasswordResetThrottle, PasswordResetEmailThrottle]

    @extend_schema(request=PasswordResetRequestSerializer, responses={202: None})
    def post(self, request):
        """Email a reset link; the answer is the same whether or not the account exists."""
        services.password_reset_request(**self.validated(PasswordResetRequestSerializer))
        return Response(status=status.HTTP_202_ACCEPTED)


class PasswordResetConfirmView(PublicView):
    @extend_schema(request=PasswordResetConfirmSerializer, responses={204: None})
    def post(self, request):
        """Set the new password from the link's uid and token; all earlier tokens stop working."""
        data = self.validated(PasswordResetConfirmSerializer)
        services.password_reset_confirm(new_password=data.pop("new_password"), **_uid_token(data))
        return Response(status=status.HTTP_204_NO_CONTENT)


def token_pair_response(request, pair, *, in_cookie):
    """The pair as the login answers it: both in the body, or the refresh token in its cookie."""
    if not in_cookie:
        return Response(pair)
    response = Response({"access": pair["access"]})
    refresh_cookie.set_refresh_cookie(response, request, pair["refresh"])
    return response


def _uid_token(data):
    return {"uidb64": data["uid"], "token": data["token"]}
