"""Replay and what-if reports: their data model and renderers (pure: no trio, no SQL)."""
