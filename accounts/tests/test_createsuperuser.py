import pytest
from django.core.management import call_command

from accounts.models import User


@pytest.mark.django_db
def test_createsuperuser_noinput_takes_email_and_password_from_the_environment(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", "Root@Example.COM")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-Long-enough-passw0rd")

    call_command("createsuperuser", "--noinput", verbosity=0)

    admin = User.objects.get()
    assert admin.email == "root@example.com"
    assert admin.is_superuser and admin.is_staff
    assert admin.check_password("a-Long-enough-passw0rd")
