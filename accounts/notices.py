"""Security notices: the mail that tells a user something happened to their account.

Every feature calls one function, `send(user, notice, **context)`, inside the transaction of the
change it reports; the notice leaves only if that transaction commits. The kinds are fixed here.
Until background work lands (issue 11), a notice is only logged: nothing is mailed yet.
"""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)

NOTICES = frozenset(
    {
        "password_changed",
        "account_closed",
        "email_change_requested",
        "new_sign_in",
        "second_factor_added",
        "second_factor_removed",
    }
)


def send(user, notice: str, **context) -> None:
    """Tell `user` about `notice` once the current transaction commits."""
    if notice not in NOTICES:
        raise ValueError(f"Unknown notice {notice!r}")
    transaction.on_commit(lambda: logger.info("Notice %s for user %s", notice, user.pk))
