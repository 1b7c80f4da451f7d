"""`auth/mfa/`, `auth/passkeys/` and `auth/reauthenticate/`: thin views over accounts.mfa.

Changes of second factors and passkeys need recent authentication (RecentAuthentication); every
code and assertion passes the login gate inside the services.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed, NotFound, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import login_gate, reauth, tokens
from accounts.mfa import services as mfa
from accounts.mfa.models import Passkey
from users_api import refresh_cookie
from users_api.auth import TOKEN_INVALID, PublicView, token_pair_response
from users_api.mfa_serializers import (
    MfaOverviewSerializer,
    MfaVerifySerializer,
    PasskeyCreatedSerializer,
    PasskeyLoginSerializer,
    PasskeyRegistrationSerializer,
    PasskeySerializer,
    ReauthenticateSerializer,
    RecoveryCodesSerializer,
    TOTPCodeSerializer,
    TOTPEnrolmentSerializer,
    WebAuthnCreationOptionsSerializer,
    WebAuthnRequestOptionsSerializer,
)
from users_api.permissions import RecentAuthentication
from users_api.serializers import TokenPairSerializer

WRONG_PROOF = "This is not correct."
WRONG_FACTOR = "The code or passkey is not valid."


def _validated(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class MfaOverviewView(APIView):
    serializer_class = MfaOverviewSerializer  # for the schema
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=MfaOverviewSerializer)
    def get(self, request):
        """Which second factors are on: TOTP, the passkeys, and how many recovery codes are left."""
        return Response(MfaOverviewSerializer(mfa.overview(request.user)).data)


class TOTPView(APIView):
    serializer_class = TOTPEnrolmentSerializer  # for the schema
    permission_classes = [IsAuthenticated, RecentAuthentication]
    state_error = "TOTP is not in the state this asks for (already on, or not on); see `errors`."

    @extend_schema(request=None, responses=TOTPEnrolmentSerializer)
    def post(self, request):
        """Start TOTP enrolment: a new secret, its URI and QR code; off until confirmed."""
        return Response(mfa.totp_begin(user=request.user))

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        """Turn TOTP off."""
        mfa.totp_disable(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class TOTPConfirmView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=TOTPCodeSerializer, responses=RecoveryCodesSerializer)
    def post(self, request):
        """Turn TOTP on with a first code; the answer holds the recovery codes (shown once) when
        TOTP is the first second factor, else an empty list."""
        codes = mfa.totp_confirm(
            user=request.user,
            code=_validated(TOTPCodeSerializer, request)["code"],
            client=login_gate.Client.of(request),
        )
        return Response({"recovery_codes": codes})


class RecoveryCodesView(APIView):
    permission_classes = [IsAuthenticated, RecentAuthentication]
    state_error = "No second factor is on; see `errors`."

    @extend_schema(request=None, responses=RecoveryCodesSerializer)
    def post(self, request):
        """New recovery codes (shown once); the old ones stop working."""
        return Response({"recovery_codes": mfa.recovery_codes_regenerate(user=request.user)})


class PasskeyListView(APIView):
    serializer_class = PasskeySerializer  # for the schema
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=PasskeySerializer(many=True))
    def get(self, request):
        """Your passkeys."""
        passkeys = Passkey.objects.filter(user=request.user)
        return Response(PasskeySerializer(passkeys, many=True).data)


class PasskeyDetailView(APIView):
    serializer_class = PasskeySerializer  # for the schema
    permission_classes = [IsAuthenticated, RecentAuthentication]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request, passkey_id):
        """Remove one of your passkeys."""
        try:
            mfa.passkey_delete(user=request.user, passkey_id=passkey_id)
        except Passkey.DoesNotExist:
            raise NotFound from None
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasskeyRegistrationOptionsView(APIView):
    permission_classes = [IsAuthenticated, RecentAuthentication]

    @extend_schema(request=None, responses=WebAuthnCreationOptionsSerializer)
    def post(self, request):
        """WebAuthn creation options (`PublicKeyCredentialCreationOptionsJSON`)."""
        return Response(mfa.passkey_registration_options(user=request.user))


class PasskeyRegistrationView(APIView):
    permission_classes = [IsAuthenticated, RecentAuthentication]

    @extend_schema(request=PasskeyRegistrationSerializer, responses={201: PasskeyCreatedSerializer})
    def post(self, request):
        """Register the passkey the browser created from the options, under a name."""
        data = _validated(PasskeyRegistrationSerializer, request)
        passkey, codes = mfa.passkey_register(user=request.user, **data)
        body = {**PasskeySerializer(passkey).data, "recovery_codes": codes}
        return Response(body, status=status.HTTP_201_CREATED)


class PasskeyLoginOptionsView(PublicView):
    @extend_schema(request=None, responses=WebAuthnRequestOptionsSerializer)
    def post(self, request):
        """WebAuthn request options (`PublicKeyCredentialRequestOptionsJSON`): for a passwordless
        login, a passkey as second factor, or a reauthentication."""
        return Response(mfa.passkey_authentication_options())


class PasskeyLoginView(PublicView):
    checks_credentials_in_body = True

    @extend_schema(request=PasskeyLoginSerializer, responses=TokenPairSerializer)
    def post(self, request):
        """Passwordless login with a passkey (user verification required)."""
        data = _validated(PasskeyLoginSerializer, request)
        client = login_gate.Client.of(request)
        try:
            user = mfa.passkey_login(credential=data["credential"], client=client)
        except login_gate.WrongCredentials:
            raise AuthenticationFailed(mfa.INVALID_CREDENTIAL, code="invalid_credential") from None
        pair = tokens.issue_token_pair(user, client=client, amr=["hwk"])
        response = token_pair_response(request, pair, in_cookie=data["refresh_in_cookie"])
        login_gate.remember_device(response, client=client, user=user)
        return response


class MfaVerifyView(PublicView):
    checks_credentials_in_body = True

    @extend_schema(request=MfaVerifySerializer, responses=TokenPairSerializer)
    def post(self, request):
        """Finish a login that answered `mfa_required`: the `mfa_token` and a TOTP code, a
        recovery code or a passkey assertion. The token works once."""
        data = _validated(MfaVerifySerializer, request)
        client = login_gate.Client.of(request)
        try:
            user, amr = mfa.second_factor_login(
                mfa_token=data["mfa_token"],
                client=client,
                code=data.get("code"),
                credential=data.get("credential"),
            )
        except mfa.InvalidPendingLogin:
            raise AuthenticationFailed(mfa.INVALID_MFA_TOKEN, code="mfa_token_invalid") from None
        except login_gate.WrongCredentials:
            raise AuthenticationFailed(WRONG_FACTOR, code="invalid_second_factor") from None
        pair = tokens.issue_token_pair(user, client=client, amr=amr)
        response = token_pair_response(request, pair, in_cookie=data["refresh_in_cookie"])
        login_gate.remember_device(response, client=client, user=user)
        return response


class ReauthenticateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ReauthenticateSerializer, responses={200: TokenPairSerializer, 204: None}
    )
    def post(self, request):
        """Prove it is you again (password, or a second factor): new tokens of the same session
        with a fresh `auth_time` (200). A browser session is marked instead (204, no tokens)."""
        data = _validated(ReauthenticateSerializer, request)
        user, client = request.user, login_gate.Client.of(request)
        try:
            if data.get("password"):
                login_gate.verify_password(client=client, user=user, password=data["password"])
                amr = ["pwd"]
            else:
                amr = mfa.verify_second_factor(
                    user=user,
                    client=client,
                    code=data.get("code"),
                    credential=data.get("credential"),
                )
        except login_gate.WrongCredentials:
            given = (name for name in ReauthenticateSerializer.proofs if name in data)
            field = next(given, "non_field_errors")
            raise ValidationError({field: [WRONG_PROOF]}) from None
        sid = tokens.session_id(request.auth.payload) if request.auth is not None else None
        if sid is None:  # a browser session: it is marked, and gets no tokens
            reauth.mark_session(request.session)
            return Response(status=status.HTTP_204_NO_CONTENT)
        # A session whose refresh token lives in the HttpOnly cookie gets the new one there too,
        # never in the body (where a script could read it); the cookie's old one is spent.
        raw_cookie = request.COOKIES.get(refresh_cookie.REFRESH_COOKIE)
        held = tokens.session_refresh_token(raw_cookie, user=user, sid=sid) if raw_cookie else None
        try:
            pair = tokens.reissue_token_pair(user, sid=sid, amr=amr, replaces=held)
        except tokens.InvalidRefreshToken:
            raise AuthenticationFailed(TOKEN_INVALID, code="token_not_valid") from None
        return token_pair_response(request, pair, in_cookie=held is not None)
