"""Forms of the portal pages, one module per domain (``tickets.py``, ``kb.py``…)."""
