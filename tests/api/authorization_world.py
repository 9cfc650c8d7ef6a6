"""The small organisation the authorisation matrix runs against, and a cheap database fingerprint.

One world per test case (every case may change it); it is built with the builders and the
services in one transaction, in a few dozen milliseconds:

- teams A and B; an admin, a supervisor, the lead of A, an agent of A, a teammate in A (neither a
  role nor a target of self-service) and an agent of B (the "other team");
- companies C (the requester's), D (the stranger's) and an empty one (which may be deleted);
- customers R (requester, company C), S (company admin of C), T (company D), F (a colleague in
  C who follows ticket X);
- ticket X in team A requested by R with a public reply and an internal note, each carrying an
  attachment, a "related" link to ticket Y (also team A, requester R) and the follower F;
- a custom field, a skill the agent has, a spare API token of the agent, a dead job, a
  notification of the agent and a notification channel;
- a bearer token per role (anonymous sends none).
"""

from __future__ import annotations

import enum
import io
from typing import Any
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Boolean, Column, Connection, Integer, String, case, func, select
from sqlalchemy.sql.elements import ColumnElement, Label

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind, Role
from closeloop.db.all_models import metadata
from closeloop.db.session import UnitOfWork
from closeloop.jobs import enqueue
from closeloop.jobs.models import Job
from closeloop.notifications import service as notifications
from closeloop.notifications.credentials import cipher_for
from closeloop.notifications.domain import ChannelKind, NotificationEvent, Recipient
from closeloop.notifications.models import Notification
from closeloop.notifications.schemas import ChannelCreate
from closeloop.tickets import service as tickets
from closeloop.tickets.attachment_store import AttachmentStore
from closeloop.tickets.domain import LinkKind, MessageKind
from closeloop.tickets.models import Attachment
from closeloop.tickets.schemas import MessageCreate
from tests.builders import (
    bearer,
    make_agent,
    make_company,
    make_custom_field,
    make_customer,
    make_follower,
    make_member,
    make_skill,
    make_team,
    make_ticket,
)


class Caller(enum.StrEnum):
    """The roles of the matrix, from the least to the most powerful."""

    anonymous = "anonymous"
    customer_other = "customer_other"  # T: another company
    customer_requester = "customer_requester"  # R: requested ticket X
    customer_company_admin = "customer_company_admin"  # S: company admin of R's company
    agent_other_team = "agent_other_team"  # member of team B only
    agent = "agent"  # member of team A
    lead = "lead"  # lead (and member) of team A
    supervisor = "supervisor"
    admin = "admin"


CUSTOMERS = (Caller.customer_other, Caller.customer_requester, Caller.customer_company_admin)
AGENTS = (Caller.agent_other_team, Caller.agent, Caller.lead, Caller.supervisor, Caller.admin)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
CHANNEL_URL = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef"


@dataclass(frozen=True)
class World:
    headers: Mapping[Caller, Mapping[str, str]]
    ticket_x: int
    ticket_x_version: int
    ticket_y: int
    team_a: int
    team_b: int
    admin: int
    supervisor: int
    lead: int
    agent: int
    agent_email: str
    teammate: int
    agent_other: int
    company_c: int
    company_empty: int
    requester: int
    company_admin: int
    stranger: int
    follower_customer: int
    requester_phone: int
    public_attachment: int
    note_attachment: int
    link: int
    follower: int
    custom_field: int
    skill: int
    spare_token: int
    dead_job: int
    notification: int
    channel: int
    attachments_dir: Path

    def path_params(self) -> dict[str, int]:
        """The object each path parameter names unless a row says otherwise."""
        return {
            "ticket_id": self.ticket_x,
            "link_id": self.link,
            "follower_id": self.follower,
            "attachment_id": self.public_attachment,
            "field_id": self.custom_field,
            "agent_id": self.agent,
            "skill_id": self.skill,
            "team_id": self.team_a,
            "customer_id": self.requester,
            "identity_id": self.requester_phone,
            "company_id": self.company_c,
            "token_id": self.spare_token,
            "job_id": self.dead_job,
            "notification_id": self.notification,
            "channel_id": self.channel,
        }


def build_world(uow: UnitOfWork, *, attachments_dir: Path, secret_key: str) -> World:
    """Build the world in ``uow`` and commit it (to the test's savepoint)."""
    accounts.get_organisation(uow)
    team_a, team_b = make_team(uow), make_team(uow)
    # No passwords: argon2 would cost ~50 ms an agent. Bearer tokens only.
    admin = make_agent(uow, role=Role.admin, password=None)
    supervisor = make_agent(uow, role=Role.supervisor, password=None)
    lead = make_agent(uow, password=None)
    make_member(uow, team_a, lead)
    team_a.lead_id = lead.id
    agent = make_agent(uow, password=None, teams=[team_a])
    teammate = make_agent(uow, password=None, teams=[team_a])
    agent_other = make_agent(uow, password=None, teams=[team_b])

    company_c, company_d, company_empty = make_company(uow), make_company(uow), make_company(uow)
    requester = make_customer(uow, company=company_c)
    company_admin = make_customer(uow, company=company_c, is_company_admin=True)
    stranger = make_customer(uow, company=company_d)
    colleague = make_customer(uow, company=company_c)
    phone = management.add_customer_identity(
        uow,
        customer_id=requester.id,
        kind=IdentityKind.phone,
        value="13800138000",
        actor=SYSTEM,
        via="test",
    )

    ticket_x = make_ticket(uow, requester=requester, team_id=team_a.id, subject="VPN drops")
    ticket_y = make_ticket(uow, requester=requester, team_id=team_a.id, subject="VPN again")
    store = AttachmentStore(attachments_dir)
    public_file = _upload(uow, store, ticket_x.id, "screenshot.png")
    note_file = _upload(uow, store, ticket_x.id, "internal-log.png")
    tickets.add_message(
        uow,
        ticket_id=ticket_x.id,
        data=MessageCreate(body="We are looking into it.", attachment_ids=[public_file.id]),
        actor=SYSTEM,
        via="test",
    )
    tickets.add_message(
        uow,
        ticket_id=ticket_x.id,
        data=MessageCreate(
            kind=MessageKind.internal_note, body="Router logs.", attachment_ids=[note_file.id]
        ),
        actor=SYSTEM,
        via="test",
    )
    link = tickets.link_tickets(
        uow,
        ticket_id=ticket_x.id,
        target_ticket_id=ticket_y.id,
        kind=LinkKind.related,
        actor=SYSTEM,
        via="test",
    )
    follower = make_follower(uow, ticket_x, customer=colleague)

    custom_field = make_custom_field(uow, key="order_number")
    skill = make_skill(uow)
    management.set_agent_skill(
        uow, agent_id=agent.id, skill_id=skill.id, level=3, actor=SYSTEM, via="test"
    )
    spare_token, _secret = accounts.create_api_token(
        uow, email=agent.email, actor=SYSTEM, via="test", name="spare"
    )
    enqueue(uow, "notifications.deliver", {"delivery_id": 1})
    uow.session.flush()
    dead_job = uow.session.scalars(select(Job).order_by(Job.id.desc()).limit(1)).one()
    dead_job.status = "dead"
    dead_job.attempts = dead_job.max_attempts
    notifications.notify(
        uow,
        event=NotificationEvent.channel_test,
        recipients=[Recipient.agent(agent.id)],
        params={"channel": "matrix"},
    )
    uow.session.flush()
    notification = uow.session.scalars(
        select(Notification.id).where(Notification.recipient_agent_id == agent.id)
    ).one()
    channel = notifications.create_channel(
        uow,
        data=ChannelCreate(
            kind=ChannelKind.dingtalk,
            name="On call",
            url=CHANNEL_URL,
            events=[NotificationEvent("sla.breached")],
        ),
        cipher=cipher_for(secret_key),
        actor=SYSTEM,
        via="test",
    )

    emails = {
        Caller.customer_other: _email(stranger.id, uow),
        Caller.customer_requester: _email(requester.id, uow),
        Caller.customer_company_admin: _email(company_admin.id, uow),
        Caller.agent_other_team: agent_other.email,
        Caller.agent: agent.email,
        Caller.lead: lead.email,
        Caller.supervisor: supervisor.email,
        Caller.admin: admin.email,
    }
    headers: dict[Caller, Mapping[str, str]] = {Caller.anonymous: {}}
    for caller, email in emails.items():
        headers[caller] = bearer(uow, email)
    uow.session.flush()
    world = World(
        headers=headers,
        ticket_x=ticket_x.id,
        ticket_x_version=ticket_x.version,
        ticket_y=ticket_y.id,
        team_a=team_a.id,
        team_b=team_b.id,
        admin=admin.id,
        supervisor=supervisor.id,
        lead=lead.id,
        agent=agent.id,
        agent_email=agent.email,
        teammate=teammate.id,
        agent_other=agent_other.id,
        company_c=company_c.id,
        company_empty=company_empty.id,
        requester=requester.id,
        company_admin=company_admin.id,
        stranger=stranger.id,
        follower_customer=colleague.id,
        requester_phone=phone.id,
        public_attachment=public_file.id,
        note_attachment=note_file.id,
        link=link.id,
        follower=follower.id,
        custom_field=custom_field.id,
        skill=skill.id,
        spare_token=spare_token.id,
        dead_job=dead_job.id,
        notification=notification,
        channel=channel.id,
        attachments_dir=attachments_dir,
    )
    uow.commit()
    return world


def _upload(uow: UnitOfWork, store: AttachmentStore, ticket_id: int, name: str) -> Attachment:
    return tickets.upload_attachment(
        uow,
        ticket_id=ticket_id,
        filename=name,
        content_type="image/png",
        stream=io.BytesIO(PNG + name.encode()),
        store=store,
        max_bytes=1024 * 1024,
        blocked_extensions=(),
        actor=SYSTEM,
        via="test",
    )


def _email(customer_id: int, uow: UnitOfWork) -> str:
    identities = accounts.identities_of(uow, [customer_id])
    return next(i.value for i in identities if i.kind == IdentityKind.email.value)


# --- did anything change? ------------------------------------------------------------------

# Columns whose aggregates move when a row changes in place rather than being added or removed
# (the test advances the clock after building the world, so a changed ``updated_at`` shows).
_TRACKED = frozenset(
    {
        "version",
        "level",
        "attempts",
        "updated_at",
        "read_at",
        "revoked_at",
        "status",
        "is_active",
        "lead_id",
        "run_at",
        "name",
        "password_hash",
    }
)


def _aggregates(column: Column[Any]) -> dict[str, ColumnElement[Any]]:
    if isinstance(column.type, Boolean):
        return {"true": func.sum(case((column, 1), else_=0))}
    if isinstance(column.type, Integer):
        return {"sum": func.sum(column)}
    if isinstance(column.type, String):
        return {"max": func.max(column), "length": func.sum(func.length(column))}
    return {"max": func.max(column), "set": func.count(column)}


def _fingerprint_columns() -> list[Label[Any]]:
    columns: list[Label[Any]] = []
    for table in metadata.sorted_tables:
        rows = select(func.count()).select_from(table).scalar_subquery()
        columns.append(rows.label(f"{table.name}#rows"))
        for column in table.columns:
            if column.name not in _TRACKED:
                continue
            for name, aggregate in _aggregates(column).items():
                value = select(aggregate).select_from(table).scalar_subquery()
                columns.append(value.label(f"{table.name}.{column.name}#{name}"))
    return columns


_FINGERPRINT = select(*_fingerprint_columns())


def fingerprint(connection: Connection, attachments_dir: Path) -> dict[str, object]:
    """Row counts of every table and aggregates of the columns that change in place (one
    statement), and the files in the attachment store."""
    row = connection.execute(_FINGERPRINT).one()
    found: dict[str, object] = dict(row._mapping)
    files = sorted(str(p) for p in attachments_dir.rglob("*") if p.is_file())
    found["attachment_files"] = files
    return found


__all__ = [
    "AGENTS",
    "CUSTOMERS",
    "Caller",
    "World",
    "build_world",
    "fingerprint",
]
