from django.apps import AppConfig


class AgentConfig(AppConfig):
    name = "palier.agent"
    label = "agent"
