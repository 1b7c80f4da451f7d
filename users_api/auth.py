"""The `auth/` endpoints: thin views over `accounts.services` and `accounts.tokens`."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.views import TokenObtainPairView

from accounts import services, tokens
from accounts.throttles import (
    EmailResendThrottle,
    LoginFailureThrottle,
    LoginThrottle,
    PasswordResetEmailThrottle,
    PasswordResetThrottle,
    RegisterEmailThrottle,
    RegisterThrottle,
)
from users_api.serializers import (
    EmailVerificationSerializer,
    PasswordChangeSerializer,
    PasswordResetConfirmSerializer,
    PasswordResetRequestSerializer,
    RefreshTokenSerializer,
    RegistrationSerializer,
    TokenPairSerializer,
    TokenVerifySerializer,
    UserSerializer,
)

TOKEN_INVALID = "Token is invalid or expired."  # noqa: S105 - a message, not a secret


class PublicView(APIView):
    """Anyone may call it; a stale Authorization header is ignored rather than answered with 401."""

    authentication_classes = []
    permission_classes = [AllowAny]

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


class TokenObtainView(TokenObtainPairView):
    """Log in with email and password; failures per account are limited (login_failures)."""

    authentication_classes = []
    throttle_classes = [LoginThrottle]

    @extend_schema(responses={200: TokenPairSerializer})
    def post(self, request, *args, **kwargs):
        email = request.data.get("email") if hasattr(request.data, "get") else None
        with LoginFailureThrottle(email).attempt():
            return super().post(request, *args, **kwargs)


class TokenRefreshView(PublicView):
    throttle_classes = [LoginThrottle]

    @extend_schema(request=RefreshTokenSerializer, responses={200: TokenPairSerializer})
    def post(self, request):
        """Rotate: the refresh token is spent and a new pair returned. Reuse revokes them all."""
        raw = self.validated(RefreshTokenSerializer)["refresh"]
        try:
            # The client's address as the throttles see it (through NUM_PROXIES), not the proxy's.
            pair = tokens.rotate_refresh_token(raw, ip=BaseThrottle().get_ident(request))
        except (tokens.InvalidRefreshToken, tokens.RefreshTokenReused) as exc:
            raise AuthenticationFailed(TOKEN_INVALID, code="token_not_valid") from exc
        return Response(pair)


class TokenVerifyView(PublicView):
    @extend_schema(request=TokenVerifySerializer, responses={200: dict})
    def post(self, request):
        """200 `{}` when Roster would accept the token now, else 401."""
        if not tokens.verify_token(self.validated(TokenVerifySerializer)["token"]):
            raise AuthenticationFailed(TOKEN_INVALID, code="token_not_valid")
        return Response({})


class LogoutView(PublicView):
    @extend_schema(request=RefreshTokenSerializer, responses={204: None})
    def post(self, request):
        """Blacklist the refresh token (idempotent)."""
        try:
            tokens.blacklist_refresh_token(self.validated(RefreshTokenSerializer)["refresh"])
        except tokens.InvalidRefreshToken as exc:
            raise AuthenticationFailed(TOKEN_INVALID, code="token_not_valid") from exc
        return Response(status=status.HTTP_204_NO_CONTENT)


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
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        """Change the password; every earlier token of the user stops working."""
        data = PasswordChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.password_change(user=request.user, **data.validated_data)
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


def _uid_token(data):
    return {"uidb64": data["uid"], "token": data["token"]}
