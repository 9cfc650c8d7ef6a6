"""The Message-IDs of each ticket's email thread, so replies find their ticket."""

from __future__ import annotations

import enum
from collections.abc import Sequence

from closeloop.channels import repository
from closeloop.channels.email.threading import normalise_message_id
from closeloop.db.session import UnitOfWork


class ReferenceDirection(enum.StrEnum):
    inbound = "in"
    outbound = "out"


def remember_email_reference(
    uow: UnitOfWork,
    *,
    message_id_header: str,
    ticket_id: int,
    message_id: int | None,
    direction: ReferenceDirection = ReferenceDirection.outbound,
) -> None:
    """Remember that ``message_id_header`` (with or without angle brackets) belongs to the
    ticket's thread, so an email answering it (In-Reply-To/References) lands on the ticket.
    A Message-ID is remembered once: the first ticket it was seen on keeps it."""
    normalised = normalise_message_id(message_id_header)
    if normalised is None:
        return
    # One statement; a concurrent transaction remembering it first is not an error either.
    repository.insert_reference(
        uow.session,
        {
            "message_id_header": normalised,
            "ticket_id": ticket_id,
            "message_id": message_id,
            "direction": ReferenceDirection(direction).value,
            "created_at": uow.clock.now(),
        },
    )


def email_references_for_ticket(uow: UnitOfWork, ticket_id: int) -> list[str]:
    """The Message-IDs of the ticket's thread, oldest first, in angle brackets (ready for a
    References header)."""
    return [f"<{value}>" for value in repository.references_of_ticket(uow.session, ticket_id)]


def tickets_for_message_ids(uow: UnitOfWork, message_ids: Sequence[str]) -> dict[str, int]:
    """Which ticket each of these (normalised) Message-IDs belongs to, for those we know."""
    return repository.tickets_by_reference(uow.session, message_ids)
