from django.db import migrations


def install(apps, schema_editor):
    from enterprises import db_triggers

    db_triggers.install(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("enterprises", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop, elidable=False)]
