"""Palier: a self-hosted, open-source IT service desk."""

__version__ = "0.1.0"
