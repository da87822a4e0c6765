"""The full data export: the whole desk or one organisation as JSON Lines plus files (docs/data-export.md)."""
