"""Forms of the agent pages, one module per domain (``routing.py``, ``sla.py``…); the workspace's
own forms are in ``workspace_forms.py`` and the people/ticket administration's in ``admin_forms.py``."""
