"""Writes of the worklist: tasks on tickets and their templates (``tasks.py``, ``templates.py``),
scheduled replies and reminders (``scheduling.py``)."""
