"""Triage and routing: rules, the classifier, assignment by skill, load and availability,
pull mode ("get next ticket") and transfers between teams.

The pure cores are ``rules`` (which rule fires for a ticket and why) and ``assigners`` (which
agent gets it). Other features react to routing only through ``routing.events``.
"""
