"""Service level agreements: business calendars, ticket clocks, warnings, breaches, escalation.

The pure core lives in ``calendar`` (business-time arithmetic), ``clock`` (replaying a ticket's
status history into a target's clock) and ``escalation`` (which step of a ladder is due).
"""
