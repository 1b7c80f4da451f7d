"""TOTP and recovery codes at the service level, with the clock frozen."""

from datetime import UTC, datetime

import pyotp
import pytest
import time_machine

from accounts import login_gate
from accounts.mfa import crypto
from accounts.mfa import services as mfa
from accounts.mfa.models import RecoveryCode, TOTPDevice

NOON = datetime(2026, 3, 2, 12, 0, 10, tzinfo=UTC)  # 10 s into a 30 s step
CLIENT = login_gate.Client(ip="192.0.2.7")

pytestmark = pytest.mark.django_db


def _code(secret, at, steps=0):
    return pyotp.TOTP(secret).at(at.timestamp() + 30 * steps)


@pytest.fixture
def enrolled(user):
    """`user` with TOTP on; yields the secret (and the recovery codes as `.codes`)."""
    with time_machine.travel(NOON, tick=False):
        secret = mfa.totp_begin(user=user)["secret"]
        user.codes = mfa.totp_confirm(user=user, code=_code(secret, NOON, -1), client=CLIENT)
    return secret


def _login_code(user, code):
    return mfa.verify_second_factor(user=user, client=CLIENT, code=code)


def test_the_secret_is_encrypted_at_rest_and_enrolment_gives_ten_recovery_codes(user, enrolled):
    stored = TOTPDevice.objects.get(user=user).encrypted_secret
    assert enrolled not in stored
    assert crypto.decrypt(stored) == enrolled
    assert len(user.codes) == 10 and len(set(user.codes)) == 10
    digests = RecoveryCode.objects.filter(user=user).values_list("digest", flat=True)
    assert not any(code.replace("-", "") in digest for code in user.codes for digest in digests)


def test_a_code_of_this_step_and_of_the_step_before_or_after_is_accepted(user, enrolled):
    for minutes, steps in ((5, 0), (10, -1), (15, 1)):
        # minutes apart, so no step is a replay of the last one used
        at = datetime.fromtimestamp(NOON.timestamp() + 60 * minutes, UTC)
        with time_machine.travel(at, tick=False):
            assert _login_code(user, _code(enrolled, at, steps)) == ["otp"]


def test_a_code_two_steps_away_is_refused(user, enrolled):
    later = datetime.fromtimestamp(NOON.timestamp() + 600, UTC)
    with time_machine.travel(later, tick=False):
        for steps in (-2, 2):
            with pytest.raises(login_gate.WrongCredentials):
                _login_code(user, _code(enrolled, later, steps))


def test_a_used_code_cannot_be_replayed_nor_an_earlier_one(user, enrolled):
    later = datetime.fromtimestamp(NOON.timestamp() + 300, UTC)
    with time_machine.travel(later, tick=False):
        code = _code(enrolled, later)
        assert _login_code(user, code) == ["otp"]
        with pytest.raises(login_gate.WrongCredentials):
            _login_code(user, code)
        with pytest.raises(login_gate.WrongCredentials):
            _login_code(user, _code(enrolled, later, -1))


def test_the_confirming_code_itself_cannot_be_replayed_at_login(user, enrolled):
    with time_machine.travel(NOON, tick=False), pytest.raises(login_gate.WrongCredentials):
        _login_code(user, _code(enrolled, NOON, -1))


def test_wrong_codes_count_as_failures_of_the_login_gate(user, enrolled, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login_failures": "3/15m"}
    later = datetime.fromtimestamp(NOON.timestamp() + 900, UTC)
    with time_machine.travel(later, tick=False):
        for _ in range(3):
            with pytest.raises(login_gate.WrongCredentials):
                _login_code(user, "000000")
        # the right code is not even checked now: the account is locked for this client
        with pytest.raises(login_gate.TooManyAttempts):
            _login_code(user, _code(enrolled, later))


@pytest.mark.parametrize("spelling", [str, str.upper, lambda c: c.replace("-", " ")])
def test_a_recovery_code_works_once_in_any_spelling(user, enrolled, spelling):
    code = user.codes[3]
    assert _login_code(user, spelling(code)) == ["otp"]
    with pytest.raises(login_gate.WrongCredentials):
        _login_code(user, code)
    assert RecoveryCode.objects.filter(user=user, used_at__isnull=True).count() == 9


def test_regenerating_recovery_codes_kills_the_old_ones(user, enrolled):
    fresh = mfa.recovery_codes_regenerate(user=user)

    with pytest.raises(login_gate.WrongCredentials):
        _login_code(user, user.codes[0])
    assert _login_code(user, fresh[0]) == ["otp"]


def test_turning_totp_off_removes_the_recovery_codes_when_no_factor_is_left(user, enrolled):
    mfa.totp_disable(user=user)

    assert not mfa.has_second_factor(user)
    assert not RecoveryCode.objects.filter(user=user).exists()
    assert mfa.methods(user) == []


def test_rotating_secret_key_with_a_fallback_keeps_secrets_readable(user, enrolled, settings):
    stored = TOTPDevice.objects.get(user=user).encrypted_secret
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" * 4

    assert crypto.decrypt(stored) == enrolled
    settings.SECRET_KEY_FALLBACKS = []
    with pytest.raises(crypto.UndecryptableSecret):
        crypto.decrypt(stored)


def test_a_secret_under_a_lost_key_is_refused_not_a_crash(user, enrolled, settings):
    settings.MFA_ENCRYPTION_KEY = ["another-key-" * 4]
    with pytest.raises(crypto.UndecryptableSecret):
        crypto.decrypt(TOTPDevice.objects.get(user=user).encrypted_secret)
    # the old key listed after the new one still decrypts (rotation)
    settings.MFA_ENCRYPTION_KEY = ["another-key-" * 4, settings.SECRET_KEY]
    assert crypto.decrypt(TOTPDevice.objects.get(user=user).encrypted_secret) == enrolled
