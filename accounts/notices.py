"""Security notices: the mail that tells a user something happened to their account.

Every feature calls one function, `send(user, notice, **context)`, inside the transaction of the
change it reports: it queues the email as a task in that transaction, so the notice leaves only
if the change commits (accounts.background). The kinds are fixed here; each has a text and an
HTML template in templates/emails/. `context` must be JSON (it is stored in the queue) and is
shown only to a verified address. Keys the templates use: new_sign_in `device`, `ip_address`;
email_change_requested `new_email`; second_factor_added/removed `method`.
"""

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
    from accounts import emails

    emails.send_notice(user, notice, context)
