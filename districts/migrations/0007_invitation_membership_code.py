import uuid

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def give_codes(apps, schema_editor):
    """Each existing membership gets its own code (a column default would give them all one)."""
    Membership = apps.get_model("districts", "Membership")
    for membership in Membership.objects.filter(code__isnull=True).only("pk"):
        Membership.objects.filter(pk=membership.pk).update(code=uuid.uuid4())


def mark_spanish_chosen(apps, schema_editor):
    """Spanish is not the default: whoever reads Spanish chose it."""
    apps.get_model("districts", "Membership").objects.filter(language="es").update(language_chosen=True)


class Migration(migrations.Migration):

    dependencies = [
        ("districts", "0006_merge_20261201_1836"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="membership",
            name="code",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(give_codes, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="membership",
            name="code",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="membership",
            name="language_chosen",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_spanish_chosen, migrations.RunPython.noop),
        migrations.CreateModel(
            name="Invitation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("code", models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                ("token_hash", models.CharField(editable=False, max_length=64, unique=True)),
                ("sent_at", models.DateTimeField()),
                ("expires_at", models.DateTimeField()),
                ("accepted_at", models.DateTimeField(blank=True, null=True)),
                ("created_by", models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL,
                                                 related_name="+", to=settings.AUTH_USER_MODEL)),
                ("user", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="invitation",
                                              to=settings.AUTH_USER_MODEL)),
            ],
            options={"ordering": ["-sent_at"]},
        ),
    ]
