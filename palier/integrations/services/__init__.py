"""Writes for integrations, split by channel: ``alerts`` (monitoring) and ``chat`` (Slack, Teams)."""
