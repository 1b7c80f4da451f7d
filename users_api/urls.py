"""The /api/v1/ URL map."""

from csp.constants import SELF
from csp.decorators import csp_update
from django.urls import include, path, re_path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)
from rest_framework.routers import DefaultRouter

from users_api import audit, auth, emailchange, index, mfa, sessions, webhooks
from users_api.views import CANONICAL_UUID, UserViewSet

router = DefaultRouter(trailing_slash=True)
router.include_format_suffixes = False
# The front page lists every endpoint group, read off this URL map (users_api/index.py).
router.APIRootView = index.APIRootView
router.register("users", UserViewSet, basename="user")
router.register("webhooks", webhooks.WebhookEndpointViewSet, basename="webhook")  # issue 15

auth_patterns = [
    path("", index.AuthIndexView.as_view(), name="auth-index"),
    path("register/", auth.RegisterView.as_view(), name="register"),
    path("token/", auth.TokenObtainView.as_view(), name="token"),
    path("token/refresh/", auth.TokenRefreshView.as_view(), name="token-refresh"),
    path("token/verify/", auth.TokenVerifyView.as_view(), name="token-verify"),
    path("logout/", auth.LogoutView.as_view(), name="logout"),
    path("email/verify/", auth.EmailVerifyView.as_view(), name="email-verify"),
    path("email/resend/", auth.EmailResendView.as_view(), name="email-resend"),
    path("password/change/", auth.PasswordChangeView.as_view(), name="password-change"),
    path("password/reset/", auth.PasswordResetView.as_view(), name="password-reset"),
    path(
        "password/reset/confirm/",
        auth.PasswordResetConfirmView.as_view(),
        name="password-reset-confirm",
    ),
    # Second factors and passkeys (users_api/mfa.py)
    path("mfa/", mfa.MfaOverviewView.as_view(), name="mfa"),
    path("mfa/totp/", mfa.TOTPView.as_view(), name="mfa-totp"),
    path("mfa/totp/confirm/", mfa.TOTPConfirmView.as_view(), name="mfa-totp-confirm"),
    path("mfa/recovery-codes/", mfa.RecoveryCodesView.as_view(), name="mfa-recovery-codes"),
    path("mfa/verify/", mfa.MfaVerifyView.as_view(), name="mfa-verify"),
    path("passkeys/", mfa.PasskeyListView.as_view(), name="passkeys"),
    re_path(
        rf"^passkeys/(?P<passkey_id>{CANONICAL_UUID})/$",
        mfa.PasskeyDetailView.as_view(),
        name="passkey",
    ),
    path(
        "passkeys/register/options/",
        mfa.PasskeyRegistrationOptionsView.as_view(),
        name="passkey-register-options",
    ),
    path("passkeys/register/", mfa.PasskeyRegistrationView.as_view(), name="passkey-register"),
    path(
        "passkeys/login/options/",
        mfa.PasskeyLoginOptionsView.as_view(),
        name="passkey-login-options",
    ),
    path("passkeys/login/", mfa.PasskeyLoginView.as_view(), name="passkey-login"),
    path("reauthenticate/", mfa.ReauthenticateView.as_view(), name="reauthenticate"),
    # Sessions (accounts.usersessions)
    path("sessions/", sessions.OwnSessionListView.as_view(), name="sessions"),
    path(
        "sessions/revoke-others/",
        sessions.RevokeOtherSessionsView.as_view(),
        name="sessions-revoke-others",
    ),
    re_path(
        rf"^sessions/(?P<session_id>{CANONICAL_UUID})/$",
        sessions.OwnSessionView.as_view(),
        name="session",
    ),
]

app_name = "api"
urlpatterns = [
    path("auth/", include(auth_patterns)),
    re_path(
        rf"^users/(?P<user_id>{CANONICAL_UUID})/sessions/$",
        sessions.UserSessionsView.as_view(),
        name="user-sessions",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's init script at `docs/?script`: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # ReDoc runs its search in a worker it makes from a blob: URL (only its own page may).
    path(
        "redoc/",
        csp_update({"worker-src": [SELF, "blob:"]})(
            SpectacularRedocView.as_view(url_name="api:schema")
        ),
        name="redoc",
    ),
    # issue 15: security events
    path("audit/events/", audit.SecurityEventList.as_view(), name="audit-events"),
    path("users/me/events/", audit.MySecurityEventList.as_view(), name="my-events"),
    path("users/me/email/", emailchange.EmailChangeRequestView.as_view(), name="email-change"),
    path(
        "auth/email/change/confirm/",
        emailchange.EmailChangeConfirmView.as_view(),
        name="email-change-confirm",
    ),
    path(
        "auth/email/change/revert/",
        emailchange.EmailChangeRevertView.as_view(),
        name="email-change-revert",
    ),
    path("", include(router.urls)),
]
