"""The Professional Understanding's four documents (English and Spanish) and the four onboarding
pathways, as first published (protocols/seed.py)."""

from django.db import migrations

from protocols.seed import protocols_seed


def seed(apps, schema_editor):
    protocols_seed(apps)


class Migration(migrations.Migration):
    dependencies = [("protocols", "0001_protocol_documents_onboarding")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
