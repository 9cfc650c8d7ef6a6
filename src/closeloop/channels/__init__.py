"""Intake and delivery per channel: email, WeChat, signed webhooks, the public web form.

Every channel turns what arrives into an ``InboundMessage`` and hands it to
``channels.service.ingest``: one pipeline decides whether it is noise, a new ticket, a reply on
a ticket, or a follow-up of a closed one, exactly once per external message id.
"""
