from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "palier.ops"
    label = "ops"
    verbose_name = "Operations"
