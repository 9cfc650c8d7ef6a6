"""Pydantic shapes of tickets on the wire (shared by api/ and web/)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, EmailStr, Field, StringConstraints, model_validator

from closeloop.kit.ids import format_ticket_number
from closeloop.kit.schemas import Strict
from closeloop.tickets.domain import (
    Channel,
    LinkKind,
    MessageKind,
    PendingReason,
    Priority,
    SlaState,
    TicketStatus,
    TicketType,
    allowed_transitions,
)
from closeloop.tickets.models import Attachment, Message, Ticket, TicketLink

Subject = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Body = Annotated[str, StringConstraints(max_length=100_000)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class RequesterRef(Strict):
    email: EmailStr
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = ""


class TicketCreate(Strict):
    subject: Subject
    description: Body = ""
    type: TicketType = TicketType.inquiry
    priority: Priority = Priority.P3
    channel: Channel = Channel.api
    requester_id: int | None = None
    requester: RequesterRef | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    tags: Annotated[list[Tag], Field(max_length=30)] = []
    custom_fields: dict[str, Any] = {}

    @model_validator(mode="after")
    def _one_requester(self) -> TicketCreate:
        if self.requester_id is not None and self.requester is not None:
            raise ValueError("give either requester_id or requester, not both")
        return self


class TicketUpdate(Strict):
    """Only the fields present in the request change; ``version`` guards against lost updates."""

    version: int | None = Field(None, description="The version you read; or send If-Match.")
    subject: Subject | None = None
    description: Body | None = None
    type: TicketType | None = None
    priority: Priority | None = None
    team_id: int | None = None
    assignee_id: int | None = None
    tags: Annotated[list[Tag], Field(max_length=30)] | None = None
    custom_fields: dict[str, Any] | None = None


class TransitionCreate(Strict):
    status: TicketStatus
    pending_reason: PendingReason | None = None
    version: int | None = None


class AssignmentCreate(Strict):
    team_id: int | None = None
    assignee_id: int | None = None
    version: int | None = None


class TicketRead(BaseModel):
    id: int
    number: str
    subject: str
    description: str
    type: TicketType
    priority: Priority
    status: TicketStatus
    pending_reason: PendingReason | None
    channel: Channel
    requester_id: int
    company_id: int | None
    team_id: int | None
    assignee_id: int | None
    tags: list[str]
    custom_fields: dict[str, Any]
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    sla_due_at: datetime | None = Field(
        None, description="The earliest due instant of the ticket's running SLA clocks."
    )
    sla_state: SlaState | None = Field(
        None, description="The worst state of the ticket's SLA clocks."
    )
    version: int
    allowed_transitions: list[TicketStatus]

    @classmethod
    def of(cls, ticket: Ticket) -> TicketRead:
        status = TicketStatus(ticket.status)
        return cls(
            id=ticket.id,
            number=format_ticket_number(ticket.id),
            subject=ticket.subject,
            description=ticket.description,
            type=TicketType(ticket.type),
            priority=Priority(ticket.priority),
            status=status,
            pending_reason=PendingReason(ticket.pending_reason) if ticket.pending_reason else None,
            channel=Channel(ticket.channel),
            requester_id=ticket.requester_id,
            company_id=ticket.company_id,
            team_id=ticket.team_id,
            assignee_id=ticket.assignee_id,
            tags=list(ticket.tags),
            custom_fields=dict(ticket.custom_fields),
            merged_into_id=ticket.merged_into_id,
            created_at=ticket.created_at,
            updated_at=ticket.updated_at,
            first_response_at=ticket.first_response_at,
            resolved_at=ticket.resolved_at,
            closed_at=ticket.closed_at,
            sla_due_at=ticket.sla_due_at,
            sla_state=ticket.sla_state,
            version=ticket.version,
            allowed_transitions=[] if ticket.merged_into_id else allowed_transitions(status),
        )


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_cursor: str | None


class MessageCreate(Strict):
    kind: MessageKind = MessageKind.public_reply
    body: Body = ""
    body_html: Body | None = None
    attachment_ids: Annotated[list[int], Field(max_length=20)] = []

    @model_validator(mode="after")
    def _has_content(self) -> MessageCreate:
        if not self.body.strip() and not (self.body_html or "").strip() and not self.attachment_ids:
            raise ValueError("a message needs a body or an attachment")
        return self


class AttachmentRead(BaseModel):
    id: int
    ticket_id: int
    message_id: int | None
    filename: str
    content_type: str
    size: int
    sha256: str
    created_at: datetime

    @classmethod
    def of(cls, attachment: Attachment) -> AttachmentRead:
        return cls(
            id=attachment.id,
            ticket_id=attachment.ticket_id,
            message_id=attachment.message_id,
            filename=attachment.filename,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
            created_at=attachment.created_at,
        )


class MessageRead(BaseModel):
    id: int
    ticket_id: int
    kind: MessageKind
    author_agent_id: int | None
    author_customer_id: int | None
    body: str
    body_html: str | None
    channel: Channel
    created_at: datetime
    attachments: list[AttachmentRead]

    @classmethod
    def of(cls, message: Message, attachments: list[Attachment]) -> MessageRead:
        return cls(
            id=message.id,
            ticket_id=message.ticket_id,
            kind=MessageKind(message.kind),
            author_agent_id=message.author_agent_id,
            author_customer_id=message.author_customer_id,
            body=message.body_text,
            body_html=message.body_html,
            channel=Channel(message.channel),
            created_at=message.created_at,
            attachments=[AttachmentRead.of(a) for a in attachments],
        )


class LinkCreate(Strict):
    target_ticket_id: int
    kind: LinkKind = LinkKind.related


class LinkRead(BaseModel):
    id: int
    source_ticket_id: int
    target_ticket_id: int
    kind: LinkKind
    created_at: datetime

    @classmethod
    def of(cls, link: TicketLink) -> LinkRead:
        return cls(
            id=link.id,
            source_ticket_id=link.source_ticket_id,
            target_ticket_id=link.target_ticket_id,
            kind=LinkKind(link.kind),
            created_at=link.created_at,
        )


class MergeCreate(Strict):
    into_ticket_id: int = Field(description="The ticket that survives the merge.")
    version: int | None = None


class FollowerCreate(Strict):
    agent_id: int | None = None
    customer_id: int | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> FollowerCreate:
        if (self.agent_id is None) == (self.customer_id is None):
            raise ValueError("give exactly one of agent_id or customer_id")
        return self


class FollowerRead(BaseModel):
    id: int
    agent_id: int | None
    customer_id: int | None
    created_at: datetime


class TimelineEntryRead(BaseModel):
    sequence: int
    occurred_at: datetime
    action: str
    field: str | None
    old_value: Any
    new_value: Any
    actor_type: str
    actor_id: int | None
    actor_name: str
    via: str
