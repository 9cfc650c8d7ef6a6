"""Tickets over JSON: thin handlers that parse, call the service, commit and answer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from closeloop.api.deps import (
    CurrentPrincipal,
    IdempotentPost,
    IfMatch,
    Uow,
    Via,
    expected_version,
)
from closeloop.kit.errors import ValidationFailed
from closeloop.kit.pagination import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, InvalidCursor, decode_cursor
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import (
    Channel,
    Priority,
    SlaState,
    TicketQuery,
    TicketStatus,
    TicketType,
)
from closeloop.tickets.schemas import (
    AssignmentCreate,
    MessageCreate,
    MessageRead,
    TicketCreate,
    TicketPage,
    TicketRead,
    TicketUpdate,
    TimelineEntryRead,
    TransitionCreate,
)

router = APIRouter(prefix="/tickets", tags=["tickets"])

SortParam = Literal[
    "-created_at",
    "created_at",
    "-updated_at",
    "updated_at",
    "priority",
    "-priority",
    "id",
    "-id",
    "sla_due_at",
    "-sla_due_at",
]


@router.post("", status_code=201, response_model=TicketRead)
def create_ticket(
    data: TicketCreate, uow: Uow, actor: CurrentPrincipal, via: Via, once: IdempotentPost
) -> JSONResponse:
    """Open a ticket. With an ``Idempotency-Key`` a retried request returns the first ticket."""
    return once.respond(
        data,
        lambda: TicketRead.of(
            tickets.settled(uow, tickets.open_ticket(uow, data=data, actor=actor, via=via))
        ),
    )


@router.get("", response_model=TicketPage)
def list_tickets(
    uow: Uow,
    actor: CurrentPrincipal,
    status: Annotated[list[TicketStatus], Query()] = [],  # noqa: B006
    priority: Annotated[list[Priority], Query()] = [],  # noqa: B006
    type: Annotated[list[TicketType], Query()] = [],  # noqa: B006
    channel: Annotated[list[Channel], Query()] = [],  # noqa: B006
    team_id: Annotated[list[int], Query()] = [],  # noqa: B006
    assignee_id: Annotated[list[int], Query()] = [],  # noqa: B006
    unassigned: bool = False,
    requester_id: Annotated[list[int], Query()] = [],  # noqa: B006
    company_id: Annotated[list[int], Query()] = [],  # noqa: B006
    tag: Annotated[list[str], Query()] = [],  # noqa: B006
    sla_state: Annotated[list[SlaState], Query()] = [],  # noqa: B006
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
    q: Annotated[str, Query(max_length=200, description="Words, or a ticket number")] = "",
    sort: SortParam = "-created_at",
    cursor: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = DEFAULT_PAGE_SIZE,
) -> TicketPage:
    """A page of the tickets you may see, newest first unless ``sort`` says otherwise.

    ``sort=sla_due_at`` puts the most urgent SLA clock first (tickets without a running clock
    last); ``sla_state`` keeps tickets whose clocks' worst state is one of those given."""
    try:
        after = decode_cursor(cursor) if cursor else None
    except InvalidCursor as error:
        raise ValidationFailed(
            errors=[{"field": "cursor", "code": "invalid", "message": "Unknown cursor."}]
        ) from error
    query = TicketQuery(
        statuses=[s.value for s in status],
        priorities=[p.value for p in priority],
        types=[t.value for t in type],
        channels=[c.value for c in channel],
        team_ids=team_id,
        assignee_ids=assignee_id,
        unassigned=unassigned,
        requester_ids=requester_id,
        company_ids=company_id,
        tags=tag,
        sla_states=sla_state,
        created_from=_aware(created_after, "created_after"),
        created_to=_aware(created_before, "created_before"),
        updated_from=_aware(updated_after, "updated_after"),
        updated_to=_aware(updated_before, "updated_before"),
        text=q,
        sort=sort.lstrip("-"),  # type: ignore[arg-type]
        descending=sort.startswith("-"),
        after=after,
        limit=limit,
    )
    try:
        page = tickets.list_tickets(uow, query=query, actor=actor)
    except InvalidCursor as error:
        raise ValidationFailed(
            errors=[
                {
                    "field": "cursor",
                    "code": "invalid",
                    "message": "The cursor belongs to another sort.",
                }
            ]
        ) from error
    return TicketPage(items=[TicketRead.of(t) for t in page.items], next_cursor=page.next_cursor)


def _aware(value: datetime | None, name: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ValidationFailed(
            errors=[
                {
                    "field": name,
                    "code": "naive_datetime",
                    "message": "Give a time zone, e.g. 2026-01-31T08:00:00+08:00 or ...Z.",
                }
            ]
        )
    return value


@router.get("/{ticket_id}", response_model=TicketRead)
def get_ticket(ticket_id: int, uow: Uow, actor: CurrentPrincipal) -> TicketRead:
    return TicketRead.of(tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor))


@router.patch("/{ticket_id}", response_model=TicketRead)
def update_ticket(
    ticket_id: int,
    data: TicketUpdate,
    uow: Uow,
    actor: CurrentPrincipal,
    via: Via,
    if_match: IfMatch = None,
) -> TicketRead:
    """Change fields. Send the ``version`` you read (or ``If-Match``); a stale one gets 409."""
    ticket = tickets.update_fields(
        uow,
        ticket_id=ticket_id,
        data=data,
        actor=actor,
        via=via,
        expected_version=expected_version(data.version, if_match),
    )
    answer = TicketRead.of(tickets.settled(uow, ticket))
    uow.commit()
    return answer


@router.post("/{ticket_id}/transitions", response_model=TicketRead)
def transition_ticket(
    ticket_id: int,
    data: TransitionCreate,
    uow: Uow,
    actor: CurrentPrincipal,
    via: Via,
    if_match: IfMatch = None,
) -> TicketRead:
    """Move the ticket to another status; an illegal move is refused and names the legal ones."""
    ticket = tickets.transition(
        uow,
        ticket_id=ticket_id,
        target=data.status,
        pending_reason=data.pending_reason,
        expected_version=expected_version(data.version, if_match),
        actor=actor,
        via=via,
    )
    answer = TicketRead.of(tickets.settled(uow, ticket))
    uow.commit()
    return answer


@router.post("/{ticket_id}/assignment", response_model=TicketRead)
def assign_ticket(
    ticket_id: int,
    data: AssignmentCreate,
    uow: Uow,
    actor: CurrentPrincipal,
    via: Via,
    if_match: IfMatch = None,
) -> TicketRead:
    """Set the team and the assignee together (send both; null clears)."""
    ticket = tickets.assign(
        uow,
        ticket_id=ticket_id,
        team_id=data.team_id,
        assignee_id=data.assignee_id,
        expected_version=expected_version(data.version, if_match),
        actor=actor,
        via=via,
    )
    answer = TicketRead.of(tickets.settled(uow, ticket))
    uow.commit()
    return answer


@router.post("/{ticket_id}/messages", status_code=201, response_model=MessageRead)
def post_message(
    ticket_id: int,
    data: MessageCreate,
    uow: Uow,
    actor: CurrentPrincipal,
    via: Via,
    once: IdempotentPost,
) -> JSONResponse:
    """Reply publicly, add an internal note, or (as a customer) write a message."""

    def produce() -> MessageRead:
        message = tickets.add_message(uow, ticket_id=ticket_id, data=data, actor=actor, via=via)
        return MessageRead.of(message, tickets.message_attachments(uow, message=message))

    return once.respond(data, produce)


@router.get("/{ticket_id}/messages", response_model=list[MessageRead])
def list_messages(ticket_id: int, uow: Uow, actor: CurrentPrincipal) -> list[MessageRead]:
    return [
        MessageRead.of(m, a)
        for m, a in tickets.list_messages(uow, ticket_id=ticket_id, actor=actor)
    ]


@router.post("/{ticket_id}/follow-ups", status_code=201, response_model=TicketRead)
def create_follow_up(
    ticket_id: int,
    data: TicketCreate,
    uow: Uow,
    actor: CurrentPrincipal,
    via: Via,
    once: IdempotentPost,
) -> JSONResponse:
    """Open a new ticket linked to this (usually closed) one, for the same requester."""
    return once.respond(
        data,
        lambda: TicketRead.of(
            tickets.settled(
                uow,
                tickets.open_follow_up(
                    uow, closed_ticket_id=ticket_id, data=data, actor=actor, via=via
                ),
            )
        ),
    )


@router.get("/{ticket_id}/timeline", response_model=list[TimelineEntryRead])
def ticket_timeline(ticket_id: int, uow: Uow, actor: CurrentPrincipal) -> list[TimelineEntryRead]:
    """Every recorded change: field, old and new value, who, when, and through what."""
    return [
        TimelineEntryRead(
            sequence=e.sequence,
            occurred_at=e.occurred_at,
            action=e.action,
            field=e.field,
            old_value=e.old_value,
            new_value=e.new_value,
            actor_type=e.actor_type,
            actor_id=e.actor_id,
            actor_name=e.actor_name,
            via=e.via,
        )
        for e in tickets.timeline(uow, ticket_id=ticket_id, actor=actor)
    ]
