"""`manage.py changepassword EMAIL`: Django's command, through `services.password_set` as the
operator, so the new password ends every session, is recorded and is told to its user (Django's
own saved the row directly)."""

from django.contrib.auth.management.commands import changepassword
from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from accounts import policy, services
from accounts.models import User

MAX_TRIES = 3


class Command(changepassword.Command):
    help = "Set a user's password (found by email, any spelling); every session of theirs ends."

    def handle(self, *args, **options):
        email = options["username"]
        if not email:
            raise CommandError("Name the user by email.")
        user = User.objects.using(options["database"]).with_email(email).first()
        if user is None:
            raise CommandError(f"user '{email}' does not exist")
        self.stdout.write(f"Changing password for user '{user}'")
        for _ in range(MAX_TRIES):
            try:
                first, second = self._get_pass(), self._get_pass("Password (again): ")
            except EOFError:  # stdin closed or at its end (no terminal, `</dev/null`)
                raise CommandError(
                    f"No password changed for user '{user}': the input ended."
                ) from None
            if first != second:
                self.stdout.write("Passwords do not match. Please try again.")
                continue
            try:  # the service validates the password (the same validators, once)
                services.password_set(
                    actor=policy.OPERATOR, user=user, password=first, entry=policy.Entry.COMMAND
                )
            except ValidationError as err:
                self.stderr.write("\n".join(err.messages))
                continue
            return f"Password changed successfully for user '{user}'"
        raise CommandError(f"Aborting password change for user '{user}' after {MAX_TRIES} attempts")
