"""WeChat official accounts (微信公众号) as a channel: pushes in, customer-service messages out.

Intake: WeChat pushes every message and event to
``/api/v1/channels/wechat/{account_id}/callback``; the delivery layer checks the signature
(``signature``), opens safe-mode envelopes and parses the XML (``messages``), and
``service.receive_push`` turns it into an ``InboundMessage`` for ``channels.service.ingest``.
Media (images, voice, video) is fetched afterwards by the ``channels.wechat.fetch_media`` job.

Delivery: an agent's public reply on a WeChat ticket becomes a ``channels.wechat.send`` job
(``handlers.on_message_added``) that calls the customer-service message API within WeChat's
48-hour window (``domain.window_is_open``); outside it the agent is told with an internal note.
See docs/subsystems/channels-wechat.md.
"""
