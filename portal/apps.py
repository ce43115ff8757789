from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """企业服务: the enterprise's own pages. A face like the API: reads through
    tickets.selectors, writes through tickets.actions / tickets.workflow, no rules of its own."""

    name = "portal"
    verbose_name = _("企业服务")
