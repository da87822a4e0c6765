"""URL patterns of the agent pages of each domain, one module per domain. ``palier/urls.py`` mounts
each list under the domain's path and URL namespace (``/agent/routing/`` as ``routing:``)."""
