from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class WeihaiConfig(AppConfig):
    name = "weihai"
    verbose_name = "企业诉求直通车"

    def ready(self):
        from weihai import checks  # noqa: F401  (registers the checks)


class WeihaiAdminConfig(AdminConfig):
    """django.contrib.admin with the project's site (start pages per role, app order)."""

    default_site = "weihai.admin_site.WeihaiAdminSite"
