"""PostgreSQL planner statistics on the month of created_at (Asia/Shanghai).

Without them the planner guesses about a million distinct months when grouping by month and
picks a slow single-process plan; with them the dashboard's month × department aggregate ran
in 1.7 s instead of 2.6 s at 1,000,000 tickets (bench/README.md, Statistics). Not needed on
SQLite.
"""

from django.db import migrations

CREATE = """
CREATE STATISTICS IF NOT EXISTS tickets_ticket_created_month
ON (date_trunc('month', created_at AT TIME ZONE 'Asia/Shanghai'))
FROM tickets_ticket
"""
DROP = "DROP STATISTICS IF EXISTS tickets_ticket_created_month"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("tickets", "0004_dashboard_list_indexes")]

    operations = [migrations.RunPython(create, drop)]
