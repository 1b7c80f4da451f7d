from django import forms

from accounts.models import MAX_PASSWORD_LENGTH


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
