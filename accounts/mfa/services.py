"""Second factors and passkeys, as plain functions (the API, the pages and the admin call these).

Every presented code or assertion passes `accounts.login_gate.attempt`, so failures count like
password failures. Every "use once" rule is a compare-and-set in one statement (an UPDATE or a
DELETE whose row count says who won), so two concurrent requests can never both spend one TOTP
step, recovery code, WebAuthn challenge, signature count or `mfa_token`.
"""

import hashlib
import hmac
import json
import re
import secrets
import time
from datetime import timedelta

import pyotp
import segno
from django.conf import settings
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from accounts import login_gate, names, notices, policy
from accounts.audit.events import record
from accounts.mfa import crypto
from accounts.mfa.models import Passkey, PendingLogin, RecoveryCode, TOTPDevice, WebAuthnChallenge
from accounts.models import User
from accounts.policy import Entry

TOTP_STEP = 30
TOTP_WINDOW = 1  # steps accepted each way, for clocks a little off
RECOVERY_CODE_COUNT = 10
PENDING_LOGIN_LIFETIME = timedelta(minutes=5)
CHALLENGE_LIFETIME = timedelta(minutes=5)
ISSUER = "Roster"
BASE64URL = re.compile(r"[A-Za-z0-9_-]{1,1400}")
# WebAuthn's AuthenticatorTransport values; anything else a client sends is dropped.
TRANSPORTS = frozenset({"usb", "nfc", "ble", "smart-card", "hybrid", "internal", "cable"})

INVALID_CODE = "The code is not valid."
INVALID_CREDENTIAL = "The passkey could not be verified."
INVALID_MFA_TOKEN = "The mfa_token is invalid, expired or already used."  # noqa: S105 - a message
TOTP_ALREADY_ON = "TOTP is already on; turn it off first to enrol a new authenticator."
TOTP_NOT_STARTED = "Start TOTP enrolment first."
TOTP_NOT_ON = "TOTP is not on."
PASSKEY_TAKEN = "This passkey is already registered."


class InvalidPendingLogin(Exception):
    """The `mfa_token` is unknown, expired or spent."""


# --- Reading ---------------------------------------------------------------------------------


def has_second_factor(user) -> bool:
    """True when a password alone no longer logs `user` in (one query: every login asks)."""
    on = Q(totp_device__confirmed=True) | Q(passkeys__isnull=False)
    return User.objects.filter(on, pk=user.pk).exists()


def methods(user) -> list[str]:
    """The second factors `user` can answer an `mfa_required` with."""
    found = []
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        found.append("totp")
    if Passkey.objects.filter(user=user).exists():
        found.append("passkey")
    if found and RecoveryCode.objects.filter(user=user, used_at__isnull=True).exists():
        found.append("recovery_code")
    return found


def overview(user) -> dict:
    """`{totp, passkeys, recovery_codes_left}` as `GET auth/mfa/` answers."""
    return {
        "totp": TOTPDevice.objects.filter(user=user, confirmed=True).exists(),
        "passkeys": list(Passkey.objects.filter(user=user)),
        "recovery_codes_left": RecoveryCode.objects.filter(user=user, used_at__isnull=True).count(),
    }


def _lock_factors(user):
    """Serialise the changes of `user`'s second factors (a row lock on the user, until the
    transaction ends): "is another factor on?" is then answered after any concurrent change, so
    two removals at once cannot both keep recovery codes that no factor backs, and two first
    factors at once cannot both hand out codes of which only one set survives."""
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


# --- TOTP --------------------------------------------------------------------------------------


def totp_begin(*, user) -> dict:
    """Start (or restart) enrolment: a new secret, not active until `totp_confirm`."""
    if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
        raise ValidationError({"totp": [TOTP_ALREADY_ON]})
    secret = pyotp.random_base32()
    TOTPDevice.objects.update_or_create(
        user=user,
        defaults={"encrypted_secret": crypto.encrypt(secret), "confirmed": False},
        create_defaults={"encrypted_secret": crypto.encrypt(secret)},
    )
    uri = pyotp.TOTP(secret, interval=TOTP_STEP).provisioning_uri(
        name=user.email, issuer_name=ISSUER
    )
    qr_svg = segno.make(uri, error="m").svg_inline(scale=4, title="TOTP QR code")
    return {"secret": secret, "otpauth_uri": uri, "qr_svg": qr_svg}


def totp_confirm(*, user, code: str, client: login_gate.Client) -> list[str]:
    """Turn TOTP on with a first valid code. Returns new recovery codes when this is the user's
    first factor (shown once), else an empty list."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        raise ValidationError({"code": [TOTP_NOT_STARTED]})
    _gated(client, user, lambda: _spend_totp(device, code), field="code", message=INVALID_CODE)
    with transaction.atomic():
        _lock_factors(user)
        first = not has_second_factor(user)
        TOTPDevice.objects.filter(pk=device.pk).update(confirmed=True)
        codes = _new_recovery_codes(user) if first else []
        notices.send(user, "second_factor_added", method="authenticator app (TOTP)")
        record("second_factor_added", user=user, client=client, data={"kind": "totp"})
    return codes


@transaction.atomic
def totp_disable(*, user) -> None:
    _lock_factors(user)
    deleted, _ = TOTPDevice.objects.filter(user=user, confirmed=True).delete()
    if not deleted:
        raise ValidationError({"totp": [TOTP_NOT_ON]})
    _forget_recovery_codes_without_factor(user)
    notices.send(user, "second_factor_removed", method="authenticator app (TOTP)")
    record("second_factor_removed", user=user, data={"kind": "totp"})


def _totp_step(code, secret, now):
    """The time step within the window whose code is `code`, else None."""
    if not (isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret, interval=TOTP_STEP)
    current = int(now // TOTP_STEP)
    for step in range(current - TOTP_WINDOW, current + TOTP_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _spend_totp(device, code):
    """True when `code` is valid now and its time step is later than the last one used: the
    step is recorded in the same UPDATE, so a code (or an earlier one) never works twice."""
    step = _totp_step(code, crypto.decrypt(device.encrypted_secret), time.time())
    if step is None:
        return False
    later = Q(last_used_step__isnull=True) | Q(last_used_step__lt=step)
    return TOTPDevice.objects.filter(later, pk=device.pk).update(last_used_step=step) == 1


# --- Recovery codes ----------------------------------------------------------------------------


def _digest(code, salt):
    return hashlib.sha256(f"{salt}${code}".encode()).hexdigest()


def _normalise(code):
    return "".join(code.split()).replace("-", "").lower() if isinstance(code, str) else ""


def _new_recovery_codes(user):
    RecoveryCode.objects.filter(user=user).delete()
    codes, rows = [], []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = secrets.token_hex(5)  # 40 bits each, single use, behind the login gate
        salt = secrets.token_hex(8)
        rows.append(RecoveryCode(user=user, digest=f"{salt}${_digest(raw, salt)}"))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(rows)
    return codes


@transaction.atomic
def recovery_codes_regenerate(*, user) -> list[str]:
    """New codes for a user with a second factor; the old ones die. New codes are a way in that
    outlives the session that asked for them: recorded, and the user is told."""
    _lock_factors(user)
    if not has_second_factor(user):
        raise ValidationError({"recovery_codes": ["Turn on a second factor first."]})
    codes = _new_recovery_codes(user)
    notices.send(
        user, "second_factor_added", method="new recovery codes; the old ones no longer work"
    )
    record("recovery_codes_regenerated", user=user, data={"count": len(codes)})
    return codes


def _spend_recovery_code(user, code):
    wanted = _normalise(code)
    if len(wanted) != 10:
        return False
    for row in RecoveryCode.objects.filter(user=user, used_at__isnull=True):
        salt, digest = row.digest.split("$", 1)
        if hmac.compare_digest(_digest(wanted, salt), digest):
            spent = RecoveryCode.objects.filter(pk=row.pk, used_at__isnull=True)
            return spent.update(used_at=timezone.now()) == 1
    return False


def _remove_every_factor(user) -> bool:
    """Delete every TOTP device, passkey and recovery code of `user`; True when a factor went."""
    totp, _ = TOTPDevice.objects.filter(user=user).delete()
    passkeys, _ = Passkey.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    return bool(totp or passkeys)


def _forget_recovery_codes_without_factor(user):
    if not has_second_factor(user):
        RecoveryCode.objects.filter(user=user).delete()


# --- Passkeys (WebAuthn) -----------------------------------------------------------------------


def _new_challenge(challenge, purpose, user=None):
    WebAuthnChallenge.objects.filter(expires_at__lte=timezone.now()).delete()
    WebAuthnChallenge.objects.create(
        challenge=bytes_to_base64url(challenge),
        purpose=purpose,
        user=user,
        expires_at=timezone.now() + CHALLENGE_LIFETIME,
    )


def _spend_challenge(credential, purpose, user=None):
    """The challenge the credential's clientDataJSON names, spent now (single use), else None."""
    try:
        client_data = json.loads(base64url_to_bytes(credential["response"]["clientDataJSON"]))
        challenge = client_data["challenge"]
    except Exception:  # noqa: BLE001 - any malformed credential is simply not valid
        return None
    if not isinstance(challenge, str) or not BASE64URL.fullmatch(challenge):
        return None
    spent, _ = WebAuthnChallenge.objects.filter(
        challenge=challenge, purpose=purpose, user=user, expires_at__gt=timezone.now()
    ).delete()
    return base64url_to_bytes(challenge) if spent else None


def passkey_registration_options(*, user) -> dict:
    """WebAuthn creation options for a new passkey of `user` (its challenge stored, single use)."""
    options = generate_registration_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=user.pk.bytes,
        user_name=user.email,
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(credential_id))
            for credential_id in Passkey.objects.filter(user=user).values_list(
                "credential_id", flat=True
            )
        ],
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    _new_challenge(options.challenge, WebAuthnChallenge.Purpose.REGISTER, user)
    return json.loads(options_to_json(options))


def passkey_register(*, user, credential: dict, name: str) -> tuple[Passkey, list[str]]:
    """Store a new passkey from the browser's `navigator.credentials.create()` answer. Returns
    it, and new recovery codes when it is the user's first factor (else an empty list)."""
    names.check(name=name)
    challenge = _spend_challenge(credential, WebAuthnChallenge.Purpose.REGISTER, user)
    if challenge is None:
        raise ValidationError({"credential": [INVALID_CREDENTIAL]})
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=settings.WEBAUTHN_ORIGINS,
        )
    except Exception as exc:
        raise ValidationError({"credential": [INVALID_CREDENTIAL]}) from exc
    credential_id = bytes_to_base64url(verified.credential_id)
    response = credential.get("response")
    sent = response.get("transports") if isinstance(response, dict) else None
    transports = (
        sorted({t for t in sent if isinstance(t, str) and t in TRANSPORTS})
        if isinstance(sent, list)
        else []
    )
    with transaction.atomic():
        _lock_factors(user)
        first = not has_second_factor(user)
        try:
            with transaction.atomic():  # the unique credential id decides concurrent registrations
                passkey = Passkey.objects.create(
                    user=user,
                    name=name,
                    credential_id=credential_id,
                    public_key=verified.credential_public_key,
                    sign_count=verified.sign_count,
                    transports=transports,
                )
        except IntegrityError:
            raise ValidationError({"credential": [PASSKEY_TAKEN]}) from None
        codes = _new_recovery_codes(user) if first else []
        notices.send(user, "second_factor_added", method=f'passkey "{name}"')
        record("passkey_added", user=user, data={"passkey": str(passkey.pk), "name": name})
    return passkey, codes


@transaction.atomic
def passkey_delete(*, user, passkey_id) -> None:
    _lock_factors(user)
    deleted, _ = Passkey.objects.filter(user=user, pk=passkey_id).delete()
    if not deleted:
        raise Passkey.DoesNotExist
    _forget_recovery_codes_without_factor(user)
    notices.send(user, "second_factor_removed", method="passkey")
    record("passkey_removed", user=user, data={"passkey": str(passkey_id)})


@transaction.atomic
def passkeys_forget_all(*, user, why: str) -> int:
    """Remove every passkey of `user`: each one logs in on its own, without the password, so an
    account taken back from an intruder (the email change's revert) keeps none they registered.
    The user is told at their (restored) address; returns how many went."""
    ids = [str(pk) for pk in Passkey.objects.filter(user=user).values_list("pk", flat=True)]
    if not ids:
        return 0
    _lock_factors(user)
    Passkey.objects.filter(user=user, pk__in=ids).delete()
    _forget_recovery_codes_without_factor(user)
    notices.send(user, "second_factor_removed", method=f"every passkey ({why})")
    for passkey_id in ids:
        record("passkey_removed", user=user, data={"passkey": passkey_id, "reason": why})
    return len(ids)


def passkey_authentication_options() -> dict:
    """WebAuthn request options (no credential list: the authenticator offers its passkeys for
    this site), for a passwordless login, a second factor or a reauthentication."""
    options = generate_authentication_options(
        rp_id=settings.WEBAUTHN_RP_ID,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _new_challenge(options.challenge, WebAuthnChallenge.Purpose.AUTHENTICATE)
    return json.loads(options_to_json(options))


def _find_passkey(credential):
    raw_id = credential.get("rawId") or credential.get("id")
    if not isinstance(raw_id, str) or not BASE64URL.fullmatch(raw_id):
        return None
    return Passkey.objects.select_related("user").filter(credential_id=raw_id).first()


def _assertion_is_valid(passkey, credential, *, user_verification):
    """Verify an assertion of `passkey` against a spent challenge, and move its signature count
    forward in one compare-and-set. A count that does not grow (a cloned authenticator) fails."""
    challenge = _spend_challenge(credential, WebAuthnChallenge.Purpose.AUTHENTICATE)
    if challenge is None:
        return False
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=settings.WEBAUTHN_RP_ID,
            expected_origin=settings.WEBAUTHN_ORIGINS,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=user_verification,
        )
    except Exception:  # noqa: BLE001 - bad signatures, origins, counts, shapes: all "not valid"
        return False
    moved = Passkey.objects.filter(pk=passkey.pk, sign_count=passkey.sign_count).update(
        sign_count=verified.new_sign_count, last_used_at=timezone.now()
    )
    return moved == 1


def passkey_login(*, credential: dict, client: login_gate.Client):
    """Passwordless login: the active user whose passkey made this assertion, with user
    verification. Raises login_gate.WrongCredentials or TooManyAttempts."""
    passkey = _find_passkey(credential)
    if passkey is None:  # counted too, against the unknown credential's id
        raw_id = credential.get("id")
        account = (
            f"passkey:{raw_id if isinstance(raw_id, str) and BASE64URL.fullmatch(raw_id) else ''}"
        )
        login_gate.attempt(client=client, account=account, check=lambda: False)
    user = passkey.user
    login_gate.attempt(
        client=client,
        account=login_gate.account_key(user.email),
        check=lambda: (
            user.is_active and _assertion_is_valid(passkey, credential, user_verification=True)
        ),
        user=user,
        purpose="login",
        method="passkey",
    )
    update_last_login(None, user)
    record("login_succeeded", user=user, client=client, data={"method": "passkey"})
    return user


# --- The login's second step -----------------------------------------------------------------


def pending_login_start(*, user) -> str:
    """After a correct password: the single-use `mfa_token` that `second_factor_login` takes."""
    now = timezone.now()
    PendingLogin.objects.filter(expires_at__lte=now).delete()
    raw = secrets.token_urlsafe(32)
    PendingLogin.objects.create(
        digest=_token_digest(raw), user=user, expires_at=now + PENDING_LOGIN_LIFETIME
    )
    return raw


def _token_digest(raw):
    return hashlib.sha256(raw.encode()).hexdigest()


def pending_login_user(mfa_token):
    """The active user whose login waits for its second factor under `mfa_token`, else None
    (unknown, expired, spent, or ended with every session: a new password, a deactivation)."""
    if not isinstance(mfa_token, str):
        return None
    pending = (
        PendingLogin.objects.select_related("user")
        .filter(digest=_token_digest(mfa_token), expires_at__gt=timezone.now())
        .first()
    )
    return pending.user if pending is not None and pending.user.is_active else None


def second_factor_login(*, mfa_token: str, client: login_gate.Client, code=None, credential=None):
    """Finish a login (the API's `mfa/verify/`, the browser's second step): `(user, amr)` when
    the factor is right and the token unspent.

    Raises InvalidPendingLogin, login_gate.WrongCredentials or TooManyAttempts.
    """
    user = pending_login_user(mfa_token)
    if user is None:
        raise InvalidPendingLogin
    amr = _verify_second_factor(user=user, client=client, code=code, credential=credential)
    spent, _ = PendingLogin.objects.filter(digest=_token_digest(mfa_token), user=user).delete()
    if not spent:
        raise InvalidPendingLogin
    record("login_succeeded", user=user, client=client, data={"method": "+".join(["pwd", *amr])})
    return user, ["pwd", *amr]


def verify_second_factor(*, user, client: login_gate.Client, code=None, credential=None):
    """Check a TOTP code, a recovery code or a passkey assertion of `user` through the login
    gate (a reauthentication); returns its `amr` (["otp"] or ["hwk"]). Raises WrongCredentials
    or TooManyAttempts; a wrong one is an `mfa_failed` event. A login's second step is
    `second_factor_login`."""
    return _verify_second_factor(user=user, client=client, code=code, credential=credential)


def _verify_second_factor(*, user, client, code, credential):
    if credential is not None:
        passkey = _find_passkey(credential)
        login_gate.attempt(
            client=client,
            account=login_gate.account_key(user.email),
            check=lambda: (
                passkey is not None
                and passkey.user_id == user.pk
                and _assertion_is_valid(passkey, credential, user_verification=False)
            ),
            user=user,
            method="passkey",
            failure_event="mfa_failed",
        )
        return ["hwk"]
    login_gate.attempt(
        client=client,
        account=login_gate.account_key(user.email),
        check=lambda: _code_is_valid(user, code),
        user=user,
        method="code",
        failure_event="mfa_failed",
    )
    return ["otp"]


def _code_is_valid(user, code):
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None and _spend_totp(device, code):
        return True
    return _spend_recovery_code(user, code)


def _gated(client, user, check, *, field, message):
    try:
        login_gate.attempt(
            client=client,
            account=login_gate.account_key(user.email),
            check=check,
            user=user,
            method="code",
            failure_event="mfa_failed",
        )
    except login_gate.WrongCredentials:
        raise ValidationError({field: [message]}) from None


def unproven_factors_remove(*, user) -> None:
    """The owner of a never-verified address just proved it (a verification or password reset
    link reached it): every second factor and passkey was set up by whoever registered the
    address before, maybe a squatter waiting to log in with them (account pre-hijacking). They
    all go."""
    if _remove_every_factor(user):
        record("second_factor_removed", user=user, data={"kind": "all", "why": "address_proven"})
        notices.send(
            user,
            "second_factor_removed",
            method="every second factor added before you proved this address was yours",
        )


# --- Operators ---------------------------------------------------------------------------------


@transaction.atomic
def second_factors_reset(*, actor, user, entry: Entry = Entry.ADMIN) -> None:
    """An operator removes every second factor of `user` (lost phone), as the policy allows."""
    policy.check_change(actor=actor, user=user, fields={"mfa"}, entry=entry)
    _remove_every_factor(user)
    record("second_factor_removed", user=user, actor=actor, data={"kind": "all"})
    notices.send(user, "second_factor_removed", method="every second factor, reset by staff")
