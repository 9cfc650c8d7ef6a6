"""Signed webhook intake: apps, call centres and chat tools post messages and call records.

Admins configure sources (``service``); each request is checked against the source's secret
(``signing``, pure) and handed to ``channels.service.ingest`` exactly once per external id.
"""
