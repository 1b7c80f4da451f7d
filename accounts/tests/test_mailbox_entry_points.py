"""The mailbox form through the operator's entry points: createsuperuser and the admin forms."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.test_admin import CHANGELIST, add_user
from accounts.tests.test_mailboxes import SHARP_S, fullwidth

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-enough-passw0rd"
LOOK_ALIKE = "root@p\u0430ypal.com"


def createsuperuser(monkeypatch, email):
    monkeypatch.setenv("DJANGO_SUPERUSER_EMAIL", email)
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command("createsuperuser", "--noinput", verbosity=0)


def test_createsuperuser_stores_the_mailbox(monkeypatch):
    createsuperuser(monkeypatch, f"Root@{fullwidth('e')}xample.COM")

    assert list(User.objects.values_list("email", flat=True)) == ["root@example.com"]


def test_createsuperuser_refuses_a_look_alike_and_a_second_spelling(monkeypatch):
    UserFactory(email="root@strasse.example")

    with pytest.raises(CommandError):
        createsuperuser(monkeypatch, LOOK_ALIKE)
    with pytest.raises(CommandError, match="already"):
        createsuperuser(monkeypatch, f"ROOT@stra{SHARP_S}e.example")

    assert User.objects.count() == 1


def test_admin_add_form_stores_the_mailbox_and_refuses_look_alikes_and_taken_ones(admin_client):
    UserFactory(email="taken@strasse.example")

    added = add_user(admin_client, email=fullwidth("Ada") + "@Example.com")
    look_alike = add_user(admin_client, email=LOOK_ALIKE)
    taken = add_user(admin_client, email=f"taken@stra{SHARP_S}e.example")

    assert added.status_code == 302
    assert User.objects.filter(email="ada@example.com").exists()
    assert look_alike.status_code == 200 and "mixes alphabets" in look_alike.content.decode()
    assert taken.status_code == 200
    assert "already exists" in taken.content.decode()
    assert User.objects.count() == 3  # the admin, the taken one, Ada


def test_admin_change_form_stores_the_mailbox(admin_client):
    target = UserFactory(email="old@example.com")
    page = admin_client.get(f"{CHANGELIST}{target.pk}/change/")
    form = page.context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if name in form.fields and value is not None and not isinstance(value, list)
    }
    data.update(email=f"New@{fullwidth('e')}xample.com", date_joined_0="2026-01-01")

    response = admin_client.post(f"{CHANGELIST}{target.pk}/change/", data)

    target.refresh_from_db()
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert target.email == "new@example.com"
