"""The enterprise's own changes to its record: only its contact details (企业信息)."""

from __future__ import annotations

from enterprises.models import Enterprise

CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")


def update_contact(
    *, enterprise_id: int, contact_name: str, contact_phone: str, contact_email: str
) -> None:
    """Set the contact's name, phone and email (the address that notifications go to)."""
    Enterprise.objects.filter(pk=enterprise_id).update(
        contact_name=contact_name.strip(),
        contact_phone=contact_phone.strip(),
        contact_email=contact_email.strip(),
    )
