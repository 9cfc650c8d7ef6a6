"""Notifications: who is told what, and how (in-app, email, WeCom/DingTalk/Feishu bots, webhooks).

Other features call :func:`closeloop.notifications.service.notify` inside their own unit of
work; the ``notifications.deliver`` job sends each outgoing message.
"""

from closeloop.notifications.domain import NotificationEvent, Recipient

__all__ = ["NotificationEvent", "Recipient"]
