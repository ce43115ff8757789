"""{% calendar_warning %}: the admin index and the dashboard say when deadlines are provisional."""

from django import template
from django.urls import reverse

from tickets import calendar_store

register = template.Library()


@register.inclusion_tag("tickets/calendar_warning.html")
def calendar_warning():
    """From 1 November while next year's calendar is unconfirmed (and whenever this year's
    is): a warning linking to the page that enters and confirms it."""
    url = reverse("admin:tickets_calendaryear_enter")
    return {
        "warnings": [
            (calendar_store.provisional_message(year), f"{url}?year={year}", year)
            for year in calendar_store.unconfirmed_years()
        ]
    }
