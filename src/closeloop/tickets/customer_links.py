"""The private link a customer follows their ticket with (web form, acknowledgement email).

No login: the link carries a token only the server can make for that ticket
(``kit.signed_tokens``), so it can be shared in an email and cannot be guessed for another one.
"""

from __future__ import annotations

from closeloop.kit.ids import format_ticket_number
from closeloop.kit.signed_tokens import sign_value, verify_value

_PURPOSE = "ticket.customer_link.v1"


def customer_link_token(secret: str, ticket_id: int) -> str:
    return sign_value(secret, purpose=_PURPOSE, value=str(ticket_id))


def customer_link_path(secret: str, ticket_id: int) -> str:
    """``/t/TK-000123/<token>``: the page of web/portal that shows this ticket to its customer."""
    return f"/t/{format_ticket_number(ticket_id)}/{customer_link_token(secret, ticket_id)}"


def verify_customer_link(secret: str, ticket_id: int, token: str) -> bool:
    return verify_value(secret, purpose=_PURPOSE, value=str(ticket_id), token=token)
