from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm
from django.core.exceptions import ValidationError

from accounts import login_gate, services
from accounts.mailboxes import MAX_INPUT_LENGTH, normalize_mailbox
from accounts.models import MAX_PASSWORD_LENGTH


class MailboxFormField(forms.CharField):
    """An email address in a form, cleaned to the mailbox it names (accounts.mailboxes), so the
    admin accepts and refuses exactly what the API does."""

    widget = forms.EmailInput

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_INPUT_LENGTH)
        kwargs.setdefault("label", "Email address")
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        return normalize_mailbox(value) if value else value


class SetPasswordForm(forms.Form):
    """The reset page's form: the new password twice. The rules are checked by the service."""

    new_password1 = forms.CharField(
        label="New password",
        max_length=MAX_PASSWORD_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "autofocus": True}),
    )
    new_password2 = forms.CharField(
        label="New password again",
        max_length=MAX_PASSWORD_LENGTH,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("new_password1") != cleaned.get("new_password2"):
            self.add_error("new_password2", "The two passwords do not match.")
        return cleaned


class GatedLoginForm(AuthenticationForm):
    """Django's login form, asking the login gate instead of `authenticate()` directly: the
    browsable API's and the admin's logins count attempts and failures as the API's does.

    `retry_after` holds the seconds to wait when the attempt was refused for that reason.
    """

    retry_after = None
    throttled_message = {"throttled": "Too many login attempts. Try again in %(wait)s seconds."}
    error_messages = {**AuthenticationForm.error_messages, **throttled_message}

    def clean(self):
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is not None and password:
            client = login_gate.Client.of(self.request)
            try:
                self.user_cache = login_gate.authenticate(
                    client=client, email=email, password=password
                )
            except login_gate.TooManyAttempts as exc:
                self.retry_after = exc.retry_after
                raise ValidationError(
                    self.error_messages["throttled"],
                    code="throttled",
                    params={"wait": exc.retry_after},
                ) from None
            except login_gate.WrongCredentials:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)  # e.g. the admin's staff only
            services.login_complete(user=self.user_cache, client=client)
            # The browser session opened by this login may tell the user of a new device.
            self.request.password_login = True
        return self.cleaned_data


class GatedPasswordChangeForm(PasswordChangeForm):
    """Django's password change form (the admin's), through `services.password_change`: the old
    password passes the login gate, and every token of the user dies with it."""

    retry_after = None

    def __init__(self, user, *args, request=None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        return self.cleaned_data["old_password"]

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            services.password_change(
                user=self.user,
                current_password=cleaned["old_password"],
                new_password=cleaned["new_password1"],
                client=login_gate.Client.of(self.request),
            )
        except login_gate.TooManyAttempts as exc:
            self.retry_after = exc.retry_after
            raise ValidationError(
                GatedLoginForm.throttled_message["throttled"], params={"wait": exc.retry_after}
            ) from None
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                target = {"current_password": "old_password", "new_password": "new_password2"}
                self.add_error(target.get(field), messages)
        return cleaned

    def save(self, commit=True):
        return self.user  # saved by the service in `clean`
