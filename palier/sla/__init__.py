"""Service-level agreements. ``clock`` holds the pure business-time arithmetic (no ORM)."""
