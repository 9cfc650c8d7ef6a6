"""Persistence plumbing: declarative base, engines, the unit of work, migrations."""
