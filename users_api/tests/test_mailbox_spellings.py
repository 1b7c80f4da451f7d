"""One mailbox, one account, one quota: the API under every spelling of an address."""

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import User
from accounts.tests.factories import UserFactory
from accounts.tests.test_mailboxes import SHARP_S, fullwidth, spelling_of

pytestmark = pytest.mark.django_db

PASSWORD = "a-Long-enough-passw0rd"
CYRILLIC_A = "\u0430"


def register(client, email, **extra):
    return client.post("/api/v1/auth/register/", {"email": email, "password": PASSWORD, **extra})


def login(client, email, password=PASSWORD):
    return client.post("/api/v1/auth/token/", {"email": email, "password": password})


@pytest.mark.parametrize(
    ("first", "second", "stored"),
    [
        ("victim@example.com", f"victim@{fullwidth('e')}xample.com", "victim@example.com"),
        (f"victim@{fullwidth('e')}xample.com", "VICTIM@example.com", "victim@example.com"),
        ("victim@strasse.example", f"victim@stra{SHARP_S}e.example", "victim@strasse.example"),
        (f"victim@stra{SHARP_S}e.example", "victim@strasse.example", "victim@strasse.example"),
        ("victim@xn--strae-oqa.example", "Victim@STRASSE.example", "victim@strasse.example"),
    ],
)
def test_a_second_spelling_of_a_mailbox_makes_no_second_account_or_mail(
    api_client, first, second, stored
):
    assert register(api_client, first).status_code == 201

    again = register(api_client, second)

    assert again.status_code == 400
    assert again.json()["errors"]["email"] == ["A user with this email already exists."]
    assert list(User.objects.values_list("email", flat=True)) == [stored]
    assert [message.to for message in mail.outbox] == [[stored]]


def test_registration_mail_quota_counts_per_mailbox_not_per_spelling(api_client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "register_email": "2/hour"}
    spellings = ["bomb@example.com", f"BOMB@{fullwidth('example')}.com", "Bomb@Example.com"]

    codes = [
        register(api_client, email, REMOTE_ADDR=f"10.0.0.{i}").status_code
        for i, email in enumerate(spellings)
    ]

    assert codes == [201, 400, 429]
    assert len(mail.outbox) == 1


def test_password_reset_mail_quota_counts_per_mailbox(api_client, settings):
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "password_reset_email": "2/hour"}
    UserFactory(email="victim@strasse.example")
    spellings = [
        f"victim@stra{SHARP_S}e.example",
        "victim@xn--strae-oqa.example",
        fullwidth("victim") + "@STRASSE.example",
    ]

    codes = [
        api_client.post(
            "/api/v1/auth/password/reset/", {"email": email}, REMOTE_ADDR=f"10.0.1.{i}"
        ).status_code
        for i, email in enumerate(spellings)
    ]

    assert codes == [202, 202, 429]
    assert [message.to for message in mail.outbox] == [["victim@strasse.example"]] * 2


@pytest.mark.parametrize("look_alike", [f"victim@p{CYRILLIC_A}ypal.com", "victim@xn--pple-43d.com"])
@pytest.mark.parametrize(
    "path", ["/api/v1/auth/register/", "/api/v1/auth/password/reset/", "/api/v1/users/"]
)
def test_addresses_that_mix_scripts_answer_400_saying_why(staff_client, path, look_alike):
    response = staff_client.post(path, {"email": look_alike, "password": PASSWORD})

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    [message] = response.json()["errors"]["email"]
    assert "mixes alphabets" in message
    assert not User.objects.filter(email__icontains="pple").exists()
    assert not User.objects.filter(email__icontains="ypal").exists()
    assert mail.outbox == []


def test_staff_changing_an_email_store_the_mailbox_and_refuse_a_taken_one(staff_client):
    target = UserFactory(email="old@example.com")
    UserFactory(email="taken@strasse.example")
    url = f"/api/v1/users/{target.pk}/"

    taken = staff_client.patch(url, {"email": f"TAKEN@stra{SHARP_S}e.example"})
    moved = staff_client.patch(url, {"email": f"New@{fullwidth('e')}xample.com"})

    assert taken.status_code == 400
    assert moved.status_code == 200 and moved.json()["email"] == "new@example.com"
    target.refresh_from_db()
    assert target.email == "new@example.com"


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_login_works_with_any_spelling_of_the_address(api_client, data):
    User.objects.filter(email="victim@strasse.example").delete()
    UserFactory(email="victim@strasse.example", password=PASSWORD)
    local = data.draw(spelling_of("victim"))
    domain = data.draw(st.sampled_from([f"stra{SHARP_S}e", "strasse", "xn--strae-oqa"]))
    spelling = f"{local}@{data.draw(spelling_of(domain))}.example"

    response = login(api_client, spelling)

    assert response.status_code == 200, (spelling, response.json())


def test_failed_logins_under_many_spellings_lock_one_account(api_client):
    UserFactory(email="victim@strasse.example", password=PASSWORD)
    spellings = [
        "victim@strasse.example",
        f"VICTIM@stra{SHARP_S}e.example",
        "victim@xn--strae-oqa.example",
        fullwidth("victim") + "@strasse.example",
    ]

    codes = [
        login(api_client, spellings[i % 4], "wrong-guess-number").status_code for i in range(10)
    ]

    assert codes == [401] * 10
    assert login(api_client, "victim@strasse.example").status_code == 429
