from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _ensure_triggers(sender, using, **kwargs):
    from django.db import connections

    from enterprises import db_triggers

    db_triggers.install(connections[using])


class EnterprisesConfig(AppConfig):
    name = "enterprises"
    verbose_name = _("企业与责任单位")

    def ready(self):
        post_migrate.connect(_ensure_triggers, sender=self)
