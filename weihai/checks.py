from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def check_allowed_hosts_wildcard(app_configs, **kwargs):
    """Django's deploy checks do not flag ``ALLOWED_HOSTS = ["*"]``; we do."""
    if not settings.DEBUG and "*" in settings.ALLOWED_HOSTS:
        return [
            Warning(
                "ALLOWED_HOSTS contains '*' while DEBUG is off.",
                hint="List the real host names in the ALLOWED_HOSTS environment variable.",
                id="weihai.W001",
            )
        ]
    return []
