import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import login_gate, policy, services
from accounts.links import email_verification_tokens, encode_uid, password_reset_tokens
from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_updating_a_stale_instance_never_undoes_a_concurrent_password_change(user):
    stale = User.objects.get(pk=user.pk)  # e.g. loaded by a request's authentication
    fresh = User.objects.get(pk=user.pk)
    fresh.set_password("the-new-Passw0rd-here")
    fresh.save()

    services.user_update(actor=stale, user=stale, data={"first_name": "Renamed"})

    row = User.objects.get(pk=user.pk)
    assert row.first_name == "Renamed"
    assert row.check_password("the-new-Passw0rd-here")


def test_deactivating_through_an_update_revokes_refresh_tokens(user):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
    from rest_framework_simplejwt.tokens import RefreshToken

    RefreshToken.for_user(user)

    services.user_update(actor=UserFactory(is_staff=True), user=user, data={"is_active": False})

    assert OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count() == 0


# --- One test per service: what it promises, called as the entry points call it ----------------

CLIENT = login_gate.Client(ip="192.0.2.1")


def live_refresh_tokens(user):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    return OutstandingToken.objects.filter(user=user, blacklistedtoken__isnull=True).count()


def test_user_create_asks_the_policy_and_sends_the_verification(staff):
    created = services.user_create(actor=staff, email="New@Example.COM", first_name="N")

    assert created.email == "new@example.com" and not created.has_usable_password()
    assert [m.to for m in mail.outbox] == [["new@example.com"]]
    with pytest.raises(PermissionDenied):
        services.user_create(actor=staff, email="boss@example.com", is_staff=True)
    assert not User.objects.with_email("boss@example.com").exists()


def test_user_create_refuses_a_taken_email_ignoring_case(staff, user):
    with pytest.raises(ValidationError) as refused:
        services.user_create(actor=staff, email=user.email.upper())

    assert refused.value.message_dict == {"email": [services.EMAIL_TAKEN]}


def test_user_register_makes_an_ordinary_unverified_user():
    user = services.user_register(email="self@example.com", password="a-Long-enough-passw0rd")

    assert not (user.is_staff or user.is_superuser or user.email_verified)
    assert user.check_password("a-Long-enough-passw0rd") and len(mail.outbox) == 1


def test_user_update_writes_nothing_when_one_field_is_refused(staff, user):
    with pytest.raises(PermissionDenied):
        services.user_update(actor=staff, user=user, data={"first_name": "Ok", "is_staff": True})

    row = User.objects.get(pk=user.pk)
    assert row.first_name == user.first_name and not row.is_staff


def test_user_update_judges_the_stored_row_not_the_callers_copy(staff):
    other_staff = UserFactory(is_staff=True)
    disguised = User.objects.get(pk=other_staff.pk)
    disguised.is_staff = False  # e.g. a form that already applied its data to the instance

    with pytest.raises(PermissionDenied):
        services.user_update(actor=staff, user=disguised, data={"is_active": False})

    assert User.objects.get(pk=other_staff.pk).is_active


def test_user_update_new_email_needs_verifying_and_is_mailed(staff):
    user = UserFactory(email_verified=True)

    services.user_update(actor=staff, user=user, data={"email": "Moved@Example.com"})

    row = User.objects.get(pk=user.pk)
    assert (row.email, row.email_verified) == ("moved@example.com", False)
    assert mail.outbox[-1].to == ["moved@example.com"]


def test_user_deactivate_and_reactivate(staff, user):
    RefreshToken.for_user(user)

    services.user_deactivate(actor=staff, user=user)
    assert not User.objects.get(pk=user.pk).is_active and live_refresh_tokens(user) == 0
    services.user_reactivate(actor=staff, user=user)
    assert User.objects.get(pk=user.pk).is_active


def test_user_deactivate_refuses_oneself_with_a_pointer_to_users_me(staff):
    with pytest.raises(PermissionDenied, match="users/me/"):
        services.user_deactivate(actor=staff, user=staff)


def test_email_mark_verified(staff, user):
    services.email_mark_verified(actor=staff, user=user)

    assert User.objects.get(pk=user.pk).email_verified


def test_user_delete_is_for_staff_on_ordinary_users_only(staff, user):
    other_staff = UserFactory(is_staff=True)

    services.user_delete(actor=staff, user=user)
    with pytest.raises(PermissionDenied):
        services.user_delete(actor=staff, user=other_staff)

    assert not User.objects.filter(pk=user.pk).exists()
    assert User.objects.filter(pk=other_staff.pk).exists()


def test_user_close_own_account_needs_the_password(user, password):
    with pytest.raises(ValidationError):
        services.user_close_own_account(user=user, password="wrong", client=CLIENT)
    assert User.objects.get(pk=user.pk).is_active

    services.user_close_own_account(user=user, password=password, client=CLIENT)
    assert not User.objects.get(pk=user.pk).is_active


def test_login_passes_the_gate_and_records_last_login(user, password):
    with pytest.raises(login_gate.WrongCredentials):
        services.login(email=user.email, password="wrong", client=CLIENT)

    logged_in = services.login(email=user.email.upper(), password=password, client=CLIENT)

    assert logged_in.pk == user.pk
    assert User.objects.get(pk=user.pk).last_login is not None


def test_login_refuses_an_inactive_account_like_a_wrong_password(user, password):
    user.is_active = False
    user.save()

    with pytest.raises(login_gate.WrongCredentials):
        services.login(email=user.email, password=password, client=CLIENT)


def test_password_change_confirms_the_current_one_and_kills_tokens(user, password):
    RefreshToken.for_user(user)

    with pytest.raises(ValidationError) as wrong:
        services.password_change(
            user=user, current_password="nope", new_password="x" * 20, client=CLIENT
        )
    assert "current_password" in wrong.value.message_dict
    services.password_change(
        user=user, current_password=password, new_password="An0ther-long-one!", client=CLIENT
    )

    assert User.objects.get(pk=user.pk).check_password("An0ther-long-one!")
    assert live_refresh_tokens(user) == 0


def test_password_set_by_staff_on_ordinary_users_only(staff, user):
    boss = UserFactory(is_staff=True, is_superuser=True)

    services.password_set(actor=staff, user=user, password="Set-by-the-operator1")
    with pytest.raises(PermissionDenied):
        services.password_set(actor=staff, user=boss, password="Set-by-the-operator1")
    services.password_set(actor=boss, user=user, password=None)

    assert not User.objects.get(pk=user.pk).has_usable_password()
    assert not User.objects.get(pk=boss.pk).check_password("Set-by-the-operator1")


def test_verification_email_send_skips_verified_addresses(user):
    services.verification_email_send(user=user)
    user.email_verified = True
    services.verification_email_send(user=user)

    assert len(mail.outbox) == 1


def test_email_verify_works_once(user):
    uid, token = encode_uid(user), email_verification_tokens.make_token(user)

    services.email_verify(uidb64=uid, token=token)
    with pytest.raises(ValidationError):
        services.email_verify(uidb64=uid, token=token)

    assert User.objects.get(pk=user.pk).email_verified


def test_password_reset_request_mails_active_accounts_only(user):
    services.password_reset_request(email=user.email.upper())
    services.password_reset_request(email="nobody@example.com")
    user.is_active = False
    user.save()
    services.password_reset_request(email=user.email)

    assert [m.to for m in mail.outbox] == [[user.email]]


def test_password_reset_email_send_asks_the_policy(staff, user):
    boss = UserFactory(is_staff=True, is_superuser=True)

    services.password_reset_email_send(actor=staff, user=user)
    with pytest.raises(PermissionDenied):
        services.password_reset_email_send(actor=staff, user=boss)

    assert [m.to for m in mail.outbox] == [[user.email]]


def test_password_reset_confirm_is_single_use(user):
    uid, token = encode_uid(user), password_reset_tokens.make_token(user)

    services.password_reset_confirm(uidb64=uid, token=token, new_password="Reset-to-this-one1")
    with pytest.raises(ValidationError):
        services.password_reset_confirm(uidb64=uid, token=token, new_password="And-again-this1")

    assert User.objects.get(pk=user.pk).check_password("Reset-to-this-one1")


def test_login_lockout_lift_asks_the_policy(settings, staff, user):
    for _ in range(10):
        with pytest.raises(login_gate.WrongCredentials):
            services.login(email=user.email, password="wrong", client=CLIENT)
    assert login_gate.lockout_seconds_left(user.email)

    with pytest.raises(PermissionDenied):
        services.login_lockout_lift(actor=user, user=user)
    services.login_lockout_lift(actor=staff, user=user)

    assert login_gate.lockout_seconds_left(user.email) is None


def test_users_import_writes_as_the_operator_and_never_makes_a_superuser(user):
    newcomer = User(email="imported@example.com")
    newcomer.set_unusable_password()
    user.is_active = False

    services.users_import(
        actor=policy.OPERATOR, created=[newcomer], updated=[(user, {"is_active"})]
    )

    assert User.objects.with_email("imported@example.com").exists()
    assert not User.objects.get(pk=user.pk).is_active
    boss = User(email="boss@example.com", is_superuser=True)
    with pytest.raises(PermissionDenied):
        services.users_import(actor=policy.OPERATOR, created=[boss], updated=[])
    with pytest.raises(PermissionDenied):
        services.users_import(actor=user, created=[], updated=[(user, {"first_name"})])
