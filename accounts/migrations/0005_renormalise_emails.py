"""Store every existing address as its mailbox (accounts.mailboxes) and date the verified ones.

Rows are rewritten only when that is safe: an address Roster now refuses (look-alike scripts, a
non-ASCII local part, bad syntax) is kept as it is, and so are all the rows whose addresses turn
out to name one mailbox (an operator must choose which account keeps it). Each such row is
reported by id on standard output; none blocks the migration.
"""

import sys

from django.db import migrations
from django.db.models.functions import Lower
from django.utils import timezone

from accounts.mailboxes import mailbox_key

LOOKUP_CHUNK = 500


def renormalise(apps, schema_editor, out=None):
    out = out or sys.stdout
    User = apps.get_model("accounts", "User")
    users = User.objects.using(schema_editor.connection.alias)
    users.filter(email_verified=True, email_verified_at=None).update(email_verified_at=timezone.now())
    wanted, refused = {}, []
    for pk, email in users.values_list("pk", "email").iterator(chunk_size=2000):
        key = mailbox_key(email)
        if key is None:
            refused.append(pk)
        elif key != email:
            wanted[pk] = key
    claims = {}
    for pk, key in wanted.items():
        claims.setdefault(key, []).append(pk)
    keys = list(claims)
    for start in range(0, len(keys), LOOKUP_CHUNK):
        holders = (
            users.annotate(email_lower=Lower("email"))
            .filter(email_lower__in=keys[start : start + LOOKUP_CHUNK])
            .exclude(pk__in=wanted)
            .values_list("email_lower", "pk")
        )
        for key, pk in holders:
            claims[key].append(pk)
    for pk in refused:
        out.write(f"accounts.0005: user {pk} kept its address: Roster now refuses it.\n")
    for key, pks in claims.items():
        if len(pks) == 1:
            users.filter(pk=pks[0]).update(email=key)
            continue
        for pk in pks:
            others = ", ".join(str(other) for other in pks if other != pk)
            out.write(
                f"accounts.0005: user {pk} kept its address: the same mailbox as user {others}.\n"
            )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_user_email_verified_at_and_mailbox"),
    ]

    operations = [
        migrations.RunPython(renormalise, migrations.RunPython.noop, elidable=True),
    ]
