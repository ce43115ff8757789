"""Keeping the stored monthly counts honest about what no ticket event records."""

from django.db.models.signals import pre_save
from django.dispatch import receiver

from enterprises.models import Enterprise
from reports import rollup


@receiver(pre_save, sender=Enterprise, dispatch_uid="reports.enterprise_district_moved")
def enterprise_district_moved(sender, instance, raw=False, **kwargs):
    """The rollup counts tickets under their enterprise's district: when an enterprise moves,
    drop it (figures are live until the next build) in the same transaction as the move."""
    if raw or instance.pk is None:
        return
    before = Enterprise.objects.filter(pk=instance.pk).values_list("district_id", flat=True)
    if before and before[0] != instance.district_id:
        rollup.drop()
