"""Saved views: presets of the ticket list (filters, columns, sort), private or shared with a
team. The built-in views of the agent workspace are described the same way (``domain``)."""
