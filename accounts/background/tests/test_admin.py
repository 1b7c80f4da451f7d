"""The operator's view of background work: task results and mail given up on."""

import pytest
from django.test import Client
from django_tasks_db.models import DBTaskResult

from accounts.background.models import UndeliveredMail
from accounts.tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("database_queue")]

UNDELIVERED = "/admin/background/undeliveredmail/"


@pytest.fixture
def operator():
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    DBTaskResult.objects.all().delete()  # the login's own new-sign-in notice
    return client


def test_undelivered_mail_is_listed_and_send_again_queues_it_afresh(operator):
    user = UserFactory(email="lost@example.com")
    lost = UndeliveredMail.objects.create(
        kind="password_changed", to=user.email, user=user, attempts=12, error="timed out"
    )

    listing = operator.get(UNDELIVERED)
    assert listing.status_code == 200 and b"lost@example.com" in listing.content
    assert operator.get("/admin/django_tasks_database/dbtaskresult/").status_code == 200

    operator.post(UNDELIVERED, {"action": "send_again", "_selected_action": [lost.pk]})

    assert not UndeliveredMail.objects.exists()
    [task] = DBTaskResult.objects.all()
    assert task.args_kwargs["kwargs"] == {
        "kind": "password_changed",
        "user_id": str(user.pk),
        "to": "lost@example.com",
        "context": {},
    }


def test_staff_without_permissions_see_no_undelivered_mail(client):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(UNDELIVERED).status_code == 403
