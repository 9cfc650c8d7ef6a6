"""Everything the ticket page shows, loaded in a fixed number of queries whatever the length of
the conversation: authors, attachments and names are fetched in batches, never per message."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import IdentityKind, Principal
from closeloop.channels import service as channels
from closeloop.db.session import UnitOfWork
from closeloop.sla import service as sla
from closeloop.sla.schemas import TicketSlaRead
from closeloop.tickets import service as tickets
from closeloop.tickets.custom_fields import service as custom_fields
from closeloop.tickets.domain import (
    MessageKind,
    TicketQuery,
    TicketStatus,
    TicketType,
    allowed_transitions,
)
from closeloop.tickets.macros import service as macros
from closeloop.web.agent.ticket_page.quoting import ShownBody, show_body

OTHER_TICKETS = 5

IDENTITY_ORDER = (
    IdentityKind.email,
    IdentityKind.phone,
    IdentityKind.wechat_openid,
    IdentityKind.external_id,
)


@dataclass(frozen=True, slots=True)
class ThreadEntry:
    message: Any
    kind: MessageKind
    author_name: str
    is_agent_side: bool
    body: ShownBody
    attachments: list[Any]
    has_original: bool


@dataclass(slots=True)
class Requester:
    customer: Any
    identities: dict[str, list[str]]
    company: Any | None
    other_tickets: list[Any]

    @property
    def is_vip(self) -> bool:
        return bool(self.customer.tier == "vip" or (self.company and self.company.tier == "vip"))


@dataclass(slots=True)
class FieldPanel:
    ticket: Any
    teams: list[Any]
    team_members: list[Any]
    agent_names: dict[int, str]
    custom_fields: list[Any]
    transitions: list[TicketStatus]
    links: list[Any]
    followers: list[Any]
    customer_names: dict[int, str] = field(default_factory=dict)

    @property
    def is_open_for_change(self) -> bool:
        return self.ticket.merged_into_id is None and self.ticket.status != "closed"


@dataclass(slots=True)
class TicketPage:
    ticket: Any
    thread: list[ThreadEntry]
    fields: FieldPanel
    requester: Requester
    sla: TicketSlaRead | None
    timeline: list[Any]
    macros: list[Any]


def raw_message(uow: UnitOfWork, *, message_id: int) -> bytes | None:
    """The original email of a message, if channels kept one (the caller checked the ticket)."""
    return channels.raw_message_for(uow, message_id=message_id)


@dataclass(frozen=True, slots=True)
class Names:
    """Agents and customers a page names, fetched once (one query each) for all its parts."""

    agents: dict[int, Any]
    customers: dict[int, Any]

    @classmethod
    def fetch(cls, uow: UnitOfWork, agent_ids: set[int], customer_ids: set[int]) -> Names:
        return cls(
            agents=accounts.agents_by_id(uow, sorted(agent_ids)),
            customers=accounts.customers_by_id(uow, sorted(customer_ids)),
        )


Entries = list[tuple[Any, list[Any]]]


def thread_people(entries: Entries) -> tuple[set[int], set[int]]:
    agents = {m.author_agent_id for m, _ in entries if m.author_agent_id is not None}
    customers = {m.author_customer_id for m, _ in entries if m.author_customer_id is not None}
    return agents, customers


def _inline_images(uow: UnitOfWork, message: Any) -> dict[str, int] | None:
    """Content-ID → attachment id, for an HTML body that shows inline images (``cid:``)."""
    if not message.body_html or "cid:" not in message.body_html:
        return None
    return channels.inline_attachment_ids(uow, message_id=message.id)


def build_thread(uow: UnitOfWork, entries: Entries, names: Names) -> list[ThreadEntry]:
    thread: list[ThreadEntry] = []
    for message, attachments in entries:
        kind = MessageKind(message.kind)
        if message.author_agent_id is not None:
            agent = names.agents.get(message.author_agent_id)
            name = agent.name if agent else f"#{message.author_agent_id}"
        elif message.author_customer_id is not None:
            customer = names.customers.get(message.author_customer_id)
            name = customer.name if customer else f"#{message.author_customer_id}"
        else:
            name = ""
        thread.append(
            ThreadEntry(
                message=message,
                kind=kind,
                author_name=name,
                is_agent_side=kind is not MessageKind.customer_message,
                body=show_body(message.body_text, message.body_html, _inline_images(uow, message)),
                attachments=list(attachments),
                has_original=message.channel == "email",
            )
        )
    return thread


def load_thread(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> list[ThreadEntry]:
    """The conversation with author names and attachments (four queries plus the ticket)."""
    entries = tickets.list_messages(uow, ticket_id=ticket_id, actor=actor)
    return build_thread(uow, entries, Names.fetch(uow, *thread_people(entries)))


@dataclass(frozen=True, slots=True)
class FieldParts:
    teams: list[Any]
    member_ids: list[int]
    followers: list[Any]
    links: list[Any]
    definitions: list[Any]

    def people(self, ticket: Any) -> tuple[set[int], set[int]]:
        agents = set(self.member_ids) | {f.agent_id for f in self.followers if f.agent_id}
        if ticket.assignee_id is not None:
            agents.add(ticket.assignee_id)
        return agents, {f.customer_id for f in self.followers if f.customer_id is not None}


def fetch_fields(uow: UnitOfWork, *, ticket: Any, actor: Principal) -> FieldParts:
    teams = list(management.list_teams(uow, actor=actor, is_active=True))
    own_team = [t for t in teams if t.id == ticket.team_id]
    return FieldParts(
        teams=teams,
        member_ids=management.present_teams(uow, own_team)[0].member_ids if own_team else [],
        followers=list(tickets.list_followers(uow, ticket_id=ticket.id, actor=actor)),
        links=list(tickets.list_links(uow, ticket_id=ticket.id, actor=actor)),
        definitions=list(
            custom_fields.list_custom_fields(uow, actor=actor, ticket_type=TicketType(ticket.type))
        ),
    )


def build_fields(ticket: Any, parts: FieldParts, names: Names) -> FieldPanel:
    agents = names.agents
    members = [agents[a] for a in parts.member_ids if a in agents and agents[a].is_active]
    status = TicketStatus(ticket.status)
    return FieldPanel(
        ticket=ticket,
        teams=parts.teams,
        team_members=sorted(members, key=lambda a: a.name.lower()),
        agent_names={a.id: a.name for a in agents.values()},
        custom_fields=parts.definitions,
        transitions=[] if ticket.merged_into_id else allowed_transitions(status),
        links=parts.links,
        followers=parts.followers,
        customer_names={c.id: c.name for c in names.customers.values()},
    )


def load_fields(uow: UnitOfWork, *, ticket: Any, actor: Principal) -> FieldPanel:
    """The field panel: teams and the ticket team's members, custom fields, legal statuses,
    links, followers."""
    parts = fetch_fields(uow, ticket=ticket, actor=actor)
    return build_fields(ticket, parts, Names.fetch(uow, *parts.people(ticket)))


def load_requester(
    uow: UnitOfWork, *, ticket: Any, actor: Principal, customer: Any | None = None
) -> Requester:
    """Name, identities, company and other tickets of the requester (``customer``, when the
    caller fetched it already)."""
    if customer is None:
        customer = accounts.get_customer(uow, ticket.requester_id)
    identities: dict[str, list[str]] = {}
    for identity in accounts.identities_of(uow, [customer.id]):
        identities.setdefault(identity.kind, []).append(identity.value)
    ordered: dict[str, list[str]] = {
        k.value: identities[k.value] for k in IDENTITY_ORDER if k.value in identities
    }
    company = (
        management.get_company(uow, company_id=customer.company_id, actor=actor)
        if customer.company_id is not None
        else None
    )
    page = tickets.list_tickets(
        uow,
        query=TicketQuery(requester_ids=[customer.id], limit=OTHER_TICKETS + 1),
        actor=actor,
    )
    others = [t for t in page.items if t.id != ticket.id][:OTHER_TICKETS]
    return Requester(customer=customer, identities=ordered, company=company, other_tickets=others)


def load_sla(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> TicketSlaRead | None:
    return sla.ticket_sla(uow, ticket_id=ticket_id, actor=actor)


def load_page(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> TicketPage:
    """The whole page: every agent and customer it names is fetched in one query each."""
    ticket = tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)
    entries = tickets.list_messages(uow, ticket_id=ticket.id, actor=actor)
    parts = fetch_fields(uow, ticket=ticket, actor=actor)
    thread_agents, thread_customers = thread_people(entries)
    field_agents, field_customers = parts.people(ticket)
    names = Names.fetch(
        uow,
        thread_agents | field_agents,
        thread_customers | field_customers | {ticket.requester_id},
    )
    return TicketPage(
        ticket=ticket,
        thread=build_thread(uow, entries, names),
        fields=build_fields(ticket, parts, names),
        requester=load_requester(
            uow, ticket=ticket, actor=actor, customer=names.customers.get(ticket.requester_id)
        ),
        sla=load_sla(uow, ticket_id=ticket.id, actor=actor),
        timeline=list(reversed(tickets.timeline(uow, ticket_id=ticket.id, actor=actor))),
        macros=list(macros.list_macros(uow, actor=actor)),
    )
