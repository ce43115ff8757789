import calendar

from django.db import migrations
from django.db.models import Count
from django.db.models.functions import ExtractYear


def confirm_complete_years(apps, schema_editor):
    """Every year the calendar covered before confirmation existed (all its days present:
    seeded from the holidays package's official schedule, ≤ 2026, or entered by hand) stays
    covered, as a confirmed year: confirmed years behave exactly as the calendar did."""
    from holidays.countries.china import ChinaStaticHolidays

    CalendarDay = apps.get_model("tickets", "CalendarDay")
    CalendarYear = apps.get_model("tickets", "CalendarYear")
    official = set(ChinaStaticHolidays.special_public_holidays)
    counts = (
        CalendarDay.objects.annotate(y=ExtractYear("date"))
        .values("y")
        .annotate(n=Count("id"))
        .values_list("y", "n")
    )
    for year, days in counts:
        if days != (366 if calendar.isleap(year) else 365):
            continue
        workdays = sorted(
            d.isoformat()
            for d in CalendarDay.objects.filter(date__year=year, is_working=True).values_list(
                "date", flat=True
            )
            if d.weekday() >= 5
        )
        CalendarYear.objects.get_or_create(
            year=year,
            defaults={
                "source": "holidays 包收录的国务院办公厅节假日安排"
                if year in official
                else "确认功能上线前录入的工作日历",
                "workdays": workdays,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0013_calendar_year_and_provisional_deadlines")]

    operations = [
        migrations.RunPython(confirm_complete_years, migrations.RunPython.noop, elidable=True)
    ]
