from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "palier.portal"
    label = "portal"
