"""Trigram search on PostgreSQL: the pg_trgm extension and a GIN index on the search document.

Both steps are skipped on other databases (SQLite falls back to a LIKE scan). The index is not in
the model's Meta because a GIN index cannot be declared portably.
"""

from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from accounts.managers import search_document

INDEX = GinIndex(
    OpClass(search_document(), name="gin_trgm_ops"), name="accounts_user_search_trgm"
)


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("accounts", "User"), INDEX)


def remove_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("accounts", "User"), INDEX)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(add_index, remove_index),
    ]
