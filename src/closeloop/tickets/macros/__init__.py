"""Macros (canned responses): a saved reply text with placeholders and optional field actions,
kept personal, for a team or for everyone."""
