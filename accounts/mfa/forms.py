import json

from django import forms
from django.core.exceptions import ValidationError


class SecondFactorForm(forms.Form):
    """The login's second step: a code typed in, or a passkey assertion put here by the script."""

    code = forms.CharField(
        label="Code from your authenticator app, or a recovery code",
        max_length=64,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )
    credential = forms.CharField(max_length=20_000, required=False, widget=forms.HiddenInput)

    def clean_credential(self):
        raw = self.cleaned_data["credential"]
        if not raw:
            return None
        try:
            credential = json.loads(raw)
        except ValueError:
            raise ValidationError("The passkey answer is not valid.") from None
        if not isinstance(credential, dict):
            raise ValidationError("The passkey answer is not valid.")
        return credential

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("code") and not cleaned.get("credential") and not self.errors:
            raise ValidationError("Type a code, or use your passkey.")
        return cleaned

    def proof(self):
        if self.cleaned_data.get("credential"):
            return {"credential": self.cleaned_data["credential"]}
        return {"code": self.cleaned_data["code"]}
