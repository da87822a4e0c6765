from django.apps import AppConfig


class KbConfig(AppConfig):
    name = "palier.kb"
    label = "kb"
    verbose_name = "Knowledge base"
