"""Opening tickets: from any channel, on behalf of a customer, or as a follow-up."""

from __future__ import annotations

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import IdentityKind, Principal
from closeloop.audit.service import Change
from closeloop.db.session import UnitOfWork
from closeloop.kit.search_tokens import document_text
from closeloop.tickets import repository
from closeloop.tickets.domain import LinkKind, TicketStatus, normalise_tags
from closeloop.tickets.errors import FieldsNotAllowed, RequesterRequired
from closeloop.tickets.events import TicketOpened
from closeloop.tickets.models import Ticket, TicketLink
from closeloop.tickets.schemas import TicketCreate
from closeloop.tickets.service._common import (
    check_team_and_assignee,
    clean_custom_fields,
    hold,
    load_visible,
    record,
)

# Fields a customer may not choose when writing in; triage sets them.
_AGENT_ONLY_FIELDS = ("priority", "team_id", "assignee_id", "tags", "requester_id", "requester")


def _requester(
    uow: UnitOfWork, data: TicketCreate, actor: Principal, via: str
) -> accounts.CustomerRecord:
    if actor.is_customer:
        assert actor.id is not None
        return accounts.get_customer(uow, actor.id)
    if data.requester_id is not None:
        return accounts.get_customer(uow, data.requester_id)
    if data.requester is not None:
        return accounts.find_or_create_customer(
            uow,
            kind=IdentityKind.email,
            value=str(data.requester.email),
            name=data.requester.name,
            actor=actor,
            via=via,
        )
    raise RequesterRequired()


def open_ticket(uow: UnitOfWork, *, data: TicketCreate, actor: Principal, via: str) -> Ticket:
    if actor.is_customer:
        refused = [name for name in _AGENT_ONLY_FIELDS if name in data.model_fields_set]
        if refused:
            raise FieldsNotAllowed(fields=", ".join(refused))
    requester = _requester(uow, data, actor, via)
    requester_id = requester.id
    check_team_and_assignee(uow, team_id=data.team_id, assignee_id=data.assignee_id)
    custom_fields = clean_custom_fields(uow, data.type.value, data.custom_fields)
    tags = normalise_tags(data.tags)
    now = uow.clock.now()
    ticket = Ticket(
        subject=data.subject,
        description=data.description,
        type=data.type.value,
        priority=data.priority.value,
        status=(TicketStatus.open if data.assignee_id else TicketStatus.new).value,
        channel=data.channel.value,
        requester_id=requester_id,
        company_id=requester.company_id,
        team_id=data.team_id,
        assignee_id=data.assignee_id,
        tags=tags,
        custom_fields=custom_fields,
        created_at=now,
        updated_at=now,
    )
    uow.session.add(ticket)
    uow.session.flush()
    hold(uow, requester, ticket)
    repository.replace_tags(uow.session, ticket.id, tags, new=True)
    repository.index_document(
        uow.session, ticket.id, document_text(ticket.subject, ticket.description), new=True
    )
    initial = {
        "subject": ticket.subject,
        "type": ticket.type,
        "priority": ticket.priority,
        "status": ticket.status,
        "channel": ticket.channel,
        "requester_id": ticket.requester_id,
        "team_id": ticket.team_id,
        "assignee_id": ticket.assignee_id,
        "tags": tags or None,
        "custom_fields": custom_fields or None,
    }
    record(
        uow,
        ticket,
        action="ticket.created",
        actor=actor,
        via=via,
        changes=[Change(name, None, value) for name, value in initial.items() if value is not None],
        is_public=True,
        new_entity=True,
    )
    uow.publish(
        TicketOpened(
            ticket_id=ticket.id,
            channel=ticket.channel,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
            given_fields=tuple(sorted(data.model_fields_set)),
        )
    )
    return ticket


def open_follow_up(
    uow: UnitOfWork, *, closed_ticket_id: int, data: TicketCreate, actor: Principal, via: str
) -> Ticket:
    """A new ticket for a closed one (closed is final), linked to it and to its requester."""
    previous = load_visible(uow, closed_ticket_id, actor)
    follow_up_data = data.model_copy(
        update={"requester_id": previous.requester_id, "requester": None}
    )
    if actor.is_customer:
        follow_up_data = data
    ticket = open_ticket(uow, data=follow_up_data, actor=actor, via=via)
    uow.session.add(
        TicketLink(
            source_ticket_id=ticket.id,
            target_ticket_id=previous.id,
            kind=LinkKind.follow_up_of.value,
            created_by_agent_id=actor.id if actor.is_agent else None,
            created_at=uow.clock.now(),
        )
    )
    record(
        uow,
        ticket,
        action="ticket.linked",
        actor=actor,
        via=via,
        changes=[Change(LinkKind.follow_up_of.value, None, previous.id)],
        is_public=True,
    )
    return ticket
