"""Inventory reports in the GLPI inventory format (docs/inventory.md): the endpoint agents post to
(``views.py``), the intake (``intake.py``: parse, store raw, check, apply), the matching and
applying of a report to its machine (``apply.py``, ``extract.py``), the agents' tokens
(``tokens.py``), the retention (``reports.py``) and the script shipped for machines without an
agent (``client/palier_inventory.py``)."""
