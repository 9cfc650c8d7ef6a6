"""Use cases of the notifications feature. Each checks permission, loads, persists, writes the
audit trail where something an administrator set up changes, and never commits."""

from closeloop.notifications.service.channels import (
    create_channel,
    delete_channel,
    get_channel,
    list_channels,
    send_test_message,
    update_channel,
)
from closeloop.notifications.service.inbox import list_notifications, mark_all_read, mark_read
from closeloop.notifications.service.notify import NotifyResult, notify

__all__ = [
    "NotifyResult",
    "create_channel",
    "delete_channel",
    "get_channel",
    "list_channels",
    "list_notifications",
    "mark_all_read",
    "mark_read",
    "notify",
    "send_test_message",
    "update_channel",
]
