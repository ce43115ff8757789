from django.apps import AppConfig


class WeihaiConfig(AppConfig):
    name = "weihai"
    verbose_name = "企业诉求直通车"

    def ready(self):
        from weihai import checks  # noqa: F401  (registers the checks)
