"""`manage.py signing_keys list|create|rotate|retire|reencrypt`: the JWT signing keys' lifecycle."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.signing import services
from accounts.signing.crypto import ALGORITHMS
from accounts.signing.models import SigningKey


def _when(value):
    return f"{value:%Y-%m-%d %H:%M:%S}" if value else "-"


class Command(BaseCommand):
    help = (
        "Manage the keys that sign JWTs. `create` publishes a new key in the JWKS; `rotate` makes "
        "the newest published key sign once every JWKS cache has it (JWKS_MAX_AGE plus "
        "SIGNING_KEYS_CACHE_SECONDS after `create`), and keeps the old key published until the "
        "last token it signed has expired; `retire KID` unpublishes a key at once (its tokens are "
        "refused); `reencrypt` re-encrypts every private key under the current encryption key. "
        "Private keys are never printed."
    )

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
        actions.add_parser("list", help="every key with its state (times in UTC)")
        create = actions.add_parser("create", help="publish a new key (it does not sign yet)")
        create.add_argument(
            "--algorithm",
            choices=ALGORITHMS,
            default=None,
            help=f"default: JWT_SIGNING_ALGORITHM ({settings.JWT_SIGNING_ALGORITHM})",
        )
        rotate = actions.add_parser("rotate", help="the newest published key starts signing")
        rotate.add_argument("--kid", help="activate this published key instead of the newest")
        retire = actions.add_parser("retire", help="unpublish a key now: its tokens are refused")
        retire.add_argument("kid")
        actions.add_parser("reencrypt", help="re-encrypt private keys under the current key")

    def handle(self, *, action, **options):
        try:
            getattr(self, f"_{action}")(**options)
        except services.SigningKeyError as error:
            raise CommandError(str(error)) from None

    def _list(self, **options):
        now = timezone.now()
        header = f"{'kid':<18} {'alg':<6} {'state':<10} {'created':<19}  {'activated':<19}"
        self.stdout.write(f"{header}  published until")
        for key in SigningKey.objects.all():
            until = _when(key.published_until) if key.published_until else "-"
            self.stdout.write(
                f"{key.kid:<18} {key.algorithm:<6} {key.state(now):<10} "
                f"{_when(key.created_at):<19}  {_when(key.activated_at):<19}  {until}"
            )

    def _create(self, *, algorithm, **options):
        key = services.create_key(algorithm=algorithm or settings.JWT_SIGNING_ALGORITHM)
        ready_at = key.created_at + services.publication_delay()
        self.stdout.write(
            f"Published {key.algorithm} key {key.kid}; `signing_keys rotate` may activate it "
            f"from {_when(ready_at)} UTC."
        )

    def _rotate(self, *, kid, **options):
        new, old = services.rotate(kid=kid)
        message = f"Key {new.kid} signs now."
        if old is not None:
            message += f" Key {old.kid} stays published until {_when(old.published_until)} UTC."
        self.stdout.write(message)

    def _retire(self, *, kid, **options):
        key = services.retire(kid=kid)
        self.stdout.write(f"Key {key.kid} is retired: its tokens are refused from now on.")

    def _reencrypt(self, **options):
        count = services.reencrypt_all()
        self.stdout.write(f"Re-encrypted {count} private key(s) under the current encryption key.")
