"""What users type, in the emails: the text part shows it as typed, the HTML part escaped, and
nothing typed reaches a header or a mail to an address not proven to be the user's."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import emails
from accounts.emailchange.models import EmailChange
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

NAME = 'O\'Brien & <Sons> "Ltd"'
ESCAPED = "O&#x27;Brien &amp; &lt;Sons&gt; &quot;Ltd&quot;"


def _change(user):
    later = timezone.now() + timedelta(days=1)
    return EmailChange.objects.create(
        user=user,
        old_email=user.email,
        new_email="o'new@example.com",
        confirm_by=later,
        revert_by=later,
    )


@pytest.mark.parametrize(
    "kind", [*sorted(emails.KINDS - emails.EMAIL_CHANGE_KINDS), "email_change_notice"]
)
def test_the_text_part_shows_a_verified_users_name_as_typed_and_the_html_escapes_it(kind):
    user = UserFactory(first_name=NAME, email="o'brien@example.com", email_verified=True)
    context = {"change_id": str(_change(user).pk)} if kind == "email_change_notice" else {}
    message = emails.render(kind, user=user, to=user.email, context=context)
    html = message.alternatives[0].content
    assert NAME in message.body
    assert "&#x27;" not in message.body and "&amp;" not in message.body
    assert "o'brien@example.com" in message.body
    assert ESCAPED in html and "<Sons>" not in html
    assert NAME not in message.subject and "\n" not in message.subject


def test_the_new_address_gets_no_name_and_its_text_shows_the_address_as_typed():
    user = UserFactory(first_name=NAME, email_verified=True)
    change = _change(user)
    message = emails.render(
        "email_change_confirm",
        user=user,
        to=change.new_email,
        context={"change_id": str(change.pk)},
    )
    assert "o'new@example.com" in message.body
    assert "Brien" not in message.body and "Brien" not in message.alternatives[0].content
