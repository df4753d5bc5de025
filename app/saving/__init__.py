"""The save path and what follows each write: audit, derived tables, attachments."""
