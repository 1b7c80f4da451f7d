from django.db import migrations, models


def encrypt_existing(apps, schema_editor):
    from accounts.webhooks import crypto

    WebhookEndpoint = apps.get_model("webhooks", "WebhookEndpoint")
    for endpoint in WebhookEndpoint.objects.all():
        endpoint.encrypted_secret = crypto.encrypt(endpoint.encrypted_secret)
        endpoint.save(update_fields=["encrypted_secret"])


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.RenameField("webhookendpoint", "secret", "encrypted_secret"),
        migrations.AlterField(
            model_name="webhookendpoint", name="encrypted_secret", field=models.TextField()
        ),
        migrations.RunPython(encrypt_existing, migrations.RunPython.noop),
    ]
