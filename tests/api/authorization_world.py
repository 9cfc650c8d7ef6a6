"""The small organisation the authorisation matrix runs against, and a cheap database fingerprint.

Built with the builders and the services in one transaction (~90 ms on SQLite, ~180 ms on
PostgreSQL): too slow to build for each of the matrix's cases, so the matrix builds it once per
backend and runs every case in a SAVEPOINT that it rolls back. It holds:

- teams A and B; an admin, a supervisor, the lead of A, an agent of A, a teammate in A (neither a
  role nor a target of self-service) and an agent of B (the "other team");
- companies C (the requester's), D (the stranger's) and an empty one (which may be deleted);
- customers R (requester, company C), S (company admin of C), T (company D), F (a colleague in
  C who follows ticket X);
- ticket X in team A requested by R with a public reply and an internal note, each carrying an
  attachment, a "related" link to ticket Y (also team A, requester R) and the follower F; ticket
  Z in team B, also requested by R;
- a custom field, a skill the agent has, a spare API token of the agent, a dead job, a
  notification of the agent and a notification channel;
- SLA: a default business calendar used by two policies, a spare calendar with a holiday;
- routing: a rule sending "VPN" tickets to team A;
- a bearer token per role (anonymous sends none).
"""

from __future__ import annotations

import enum
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    String,
    Text,
    case,
    cast,
    func,
    inspect,
    literal_column,
    select,
)
from sqlalchemy import table as sql_table
from sqlalchemy.sql.elements import ColumnElement
from tests.builders import (
    bearer,
    make_agent,
    make_company,
    make_custom_field,
    make_customer,
    make_follower,
    make_skill,
    make_team,
    make_ticket,
)

from closeloop.accounts import management
from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind, Role
from closeloop.channels import service as channel_service
from closeloop.channels.base import InboundMessage, SenderIdentity
from closeloop.channels.credentials import channel_cipher
from closeloop.channels.email import mailboxes as email_mailboxes
from closeloop.channels.email.schemas import MailboxCreate
from closeloop.channels.models import InboundRecord
from closeloop.channels.webhook import service as webhook_service
from closeloop.channels.webhook.schemas import SourceCreate
from closeloop.db.all_models import metadata
from closeloop.db.session import UnitOfWork
from closeloop.jobs import enqueue
from closeloop.jobs.models import Job
from closeloop.notifications import service as notifications
from closeloop.notifications.credentials import cipher_for
from closeloop.notifications.domain import ChannelKind, NotificationEvent, Recipient
from closeloop.notifications.models import Notification
from closeloop.notifications.schemas import ChannelCreate
from closeloop.routing import service as routing
from closeloop.routing.rules import Operator
from closeloop.routing.schemas import ActionsIn, ConditionIn, RuleCreate
from closeloop.sla import service as sla
from closeloop.sla.clock import TargetKind
from closeloop.sla.domain import DayKind
from closeloop.sla.schemas import (
    CalendarCreate,
    CalendarDayCreate,
    ConditionsIn,
    PolicyCreate,
    TargetIn,
)
from closeloop.tickets import service as tickets
from closeloop.tickets.attachment_store import AttachmentStore, StoredFile
from closeloop.tickets.domain import Channel, LinkKind, MessageKind, Priority
from closeloop.tickets.models import Attachment
from closeloop.tickets.schemas import MessageCreate


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
WEBHOOK_SLUG = "matrix"
CHANNEL_URL = "https://oapi.dingtalk.com/robot/send?access_token=0123456789abcdef"


@dataclass(frozen=True)
class World:
    headers: Mapping[Caller, Mapping[str, str]]
    ticket_x: int
    ticket_y: int
    ticket_z: int
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
    calendar: int  # the default business calendar, used by the policies
    spare_calendar: int  # unused and not the default: it may be deleted
    holiday: int  # a day of the spare calendar
    policy: int  # the second of two SLA policies
    policies: tuple[int, ...]
    webhook_source: int  # a signed webhook source at WEBHOOK_SLUG
    webhook_secret: str
    attachments_dir: Path
    rule: int  # a routing rule (sends "VPN" tickets to team A)
    mailbox: int  # team A's email mailbox (no IMAP server: its connection test fails fast)
    inbound: int  # a quarantined inbound email (empty: a release quarantines it again)

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
            "calendar_id": self.spare_calendar,
            "day_id": self.holiday,
            "policy_id": self.policy,
            "rule_id": self.rule,
            "mailbox_id": self.mailbox,
            "source_id": self.webhook_source,
            "inbound_id": self.inbound,
        }


def build_world(uow: UnitOfWork, *, attachments_dir: Path, secret_key: str) -> World:
    """Build the world in ``uow`` and commit it (to the test's savepoint)."""
    accounts.get_organisation(uow)
    team_a, team_b = make_team(uow), make_team(uow)
    # No passwords: argon2 would cost ~50 ms an agent. Bearer tokens only.
    admin = make_agent(uow, role=Role.admin, password=None)
    supervisor = make_agent(uow, role=Role.supervisor, password=None)
    lead = make_agent(uow, password=None, teams=[team_a])
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
    ticket_z = make_ticket(uow, requester=requester, team_id=team_b.id, subject="Invoice")
    stored = _stored_png(AttachmentStore(attachments_dir))
    public_file = _attachment(uow, ticket_x.id, stored, "screenshot.png")
    note_file = _attachment(uow, ticket_x.id, stored, "router-log.png")
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
    calendar, spare_calendar, holiday, policy = _sla(uow, team_b=team_b.id)
    webhook_source, webhook_secret = webhook_service.create_source(
        uow,
        data=SourceCreate(name="Matrix app", slug=WEBHOOK_SLUG),
        cipher=channel_cipher(secret_key),
        actor=SYSTEM,
        via="test",
    )
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
        ticket_y=ticket_y.id,
        ticket_z=ticket_z.id,
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
        calendar=calendar,
        spare_calendar=spare_calendar,
        holiday=holiday,
        policy=policy[1],
        policies=policy,
        webhook_source=webhook_source.id,
        webhook_secret=webhook_secret,
        attachments_dir=attachments_dir,
        rule=_routing_rule(uow, team_a=team_a.id),
        mailbox=email_mailboxes.create_mailbox(
            uow,
            data=MailboxCreate(team_id=team_a.id, name="Team A", address="team-a@example.cn"),
            cipher=channel_cipher(secret_key),
            actor=SYSTEM,
            via="test",
        ).id,
        inbound=_quarantined_email(uow, attachments_dir=attachments_dir),
    )
    uow.commit()
    return world


def _sla(uow: UnitOfWork, *, team_b: int) -> tuple[int, int, int, tuple[int, int]]:
    """A default calendar used by two policies, and a spare calendar with one holiday."""
    calendar = sla.create_calendar(
        uow,
        data=CalendarCreate(name="Office hours", preset="weekdays", is_default=True),
        actor=SYSTEM,
        via="test",
    )
    spare = sla.create_calendar(
        uow, data=CalendarCreate(name="Around the clock", preset="24x7"), actor=SYSTEM, via="test"
    )
    holiday = sla.set_calendar_day(
        uow,
        calendar_id=spare.id,
        data=CalendarDayCreate(date=date(2026, 10, 1), kind=DayKind.holiday, name="国庆节"),
        actor=SYSTEM,
        via="test",
    )
    policies = tuple(
        sla.create_policy(
            uow,
            data=PolicyCreate(
                name=name,
                calendar_id=calendar.id,
                conditions=ConditionsIn(team_ids=teams),
                targets=[TargetIn(priority=Priority.P3, kind=TargetKind.resolution, minutes=480)],
            ),
            actor=SYSTEM,
            via="test",
        ).id
        for name, teams in (("Standard", []), ("Team B", [team_b]))
    )
    return calendar.id, spare.id, holiday.id, (policies[0], policies[1])


def _routing_rule(uow: UnitOfWork, *, team_a: int) -> int:
    return routing.create_rule(
        uow,
        data=RuleCreate(
            name="VPN",
            conditions=[ConditionIn(field="text", operator=Operator.contains, value="vpn")],
            actions=ActionsIn(team_id=team_a),
        ),
        actor=SYSTEM,
        via="test",
    ).id


def _quarantined_email(uow: UnitOfWork, *, attachments_dir: Path) -> int:
    """An empty email: the inbound pipeline quarantines it (and would again on release)."""
    settings = channel_service.IngestSettings(
        attachments_dir=attachments_dir,
        raw_dir=attachments_dir.parent / "inbound",
        max_attachment_bytes=1024,
        blocked_extensions=(),
    )
    message = InboundMessage(
        channel=Channel.email,
        external_id="quarantined@matrix.example.net",
        sender=SenderIdentity(IdentityKind.email, "someone@example.net"),
        subject="",
        body_text="",
        received_at=uow.clock.now(),
        raw=b"Message-ID: <quarantined@matrix.example.net>\r\n\r\n",
    )
    channel_service.ingest(uow, message, via="test", settings=settings)
    return uow.session.scalars(
        select(InboundRecord.id).where(InboundRecord.external_id == message.external_id)
    ).one()


def _stored_png(store: AttachmentStore) -> StoredFile:
    """The bytes every world's attachments share, stored once (each store write costs fsyncs)."""
    digest = hashlib.sha256(PNG).hexdigest()
    if store.path_of(digest).exists():
        return StoredFile(sha256=digest, size=len(PNG))
    return store.save(io.BytesIO(PNG), max_bytes=len(PNG))


def _attachment(uow: UnitOfWork, ticket_id: int, stored: StoredFile, name: str) -> Attachment:
    """An uploaded file, as ``tickets.upload_attachment`` leaves it (a message claims it)."""
    attachment = Attachment(
        ticket_id=ticket_id,
        filename=name,
        content_type="image/png",
        size=stored.size,
        sha256=stored.sha256,
        created_at=uow.clock.now(),
    )
    uow.session.add(attachment)
    uow.session.flush()
    return attachment


def _email(customer_id: int, uow: UnitOfWork) -> str:
    identities = accounts.identities_of(uow, [customer_id])
    return next(i.value for i in identities if i.kind == IdentityKind.email.value)


# --- did anything change? ------------------------------------------------------------------

# Columns whose aggregates move when a row changes in place rather than being added or removed.
# Every change made through a service also stamps ``updated_at`` or ``version`` (the test's clock
# runs later than the world's) and writes an audit event, which the row counts see.
_TRACKED = frozenset(
    {
        "version",
        "updated_at",
        "team_id",
        "assignee_id",
        "merged_into_id",
        "name",
        "email",
        "password_hash",
        "lead_id",
        "company_id",
        "level",
        "read_at",
        "revoked_at",
        "attempts",
        "run_at",
        "message_id",
    }
)
# Short codes where a change keeps the length ("agent" → "admin", "P3" → "P1"): each counts
# some characters, each with a weight of its own.
_CODES = frozenset({"status", "priority", "role", "kind", "tier", "pending_reason", "sla_state"})
_LETTERS = "adeinoprst_1234"


def _code_signature(column: Column[Any]) -> ColumnElement[Any]:
    length = func.length(column)
    signature: ColumnElement[Any] = length
    for weight, letter in enumerate(_LETTERS, start=1):
        occurrences = length - func.length(func.replace(column, letter, ""))
        signature = signature + occurrences * literal_column(str(31**weight % 1_000_003))
    return signature


def _aggregates(column: Column[Any]) -> list[ColumnElement[Any]]:
    if isinstance(column.type, Boolean):
        return [func.sum(case((column, 1), else_=0))]
    if column.name in _CODES and isinstance(column.type, String):
        return [func.sum(_code_signature(column))]
    if column.name not in _TRACKED:
        return []
    if isinstance(column.type, Integer):
        return [func.sum(column), func.count(column)]
    if isinstance(column.type, String):
        return [func.sum(func.length(column)), func.max(column), func.count(column)]
    return [func.max(column), func.count(column)]


def _fingerprint_sql(connection: Connection) -> str:
    """One row: per table, its row count and the aggregates of its tracked and boolean columns;
    tables outside the metadata (full-text indexes) are counted too. Rendered once as plain SQL:
    SQLAlchemy would otherwise recompute the cache key of ~300 expressions on every call."""
    values: list[ColumnElement[Any]] = []
    for table in metadata.sorted_tables:
        # One scan per table: its aggregates joined into one text ("3|17|2026-11-25 ...|").
        aggregates = [func.count(), *(a for c in table.columns for a in _aggregates(c))]
        summary: ColumnElement[Any] = literal_column("''")
        for aggregate in aggregates:
            summary = summary + func.coalesce(cast(aggregate, Text), "-") + "|"
        scan = select(summary).select_from(table).scalar_subquery()
        values.append(scan.label(table.name))
    known = {table.name for table in metadata.sorted_tables}
    for name in sorted(set(inspect(connection).get_table_names()) - known):
        rows = select(func.count()).select_from(sql_table(name)).scalar_subquery()
        values.append(rows.label(name))
    statement = select(*values).compile(
        dialect=connection.dialect, compile_kwargs={"literal_binds": True}
    )
    return str(statement)


_STATEMENTS: dict[str, str] = {}


def fingerprint(connection: Connection, attachments_dir: Path | None = None) -> dict[str, object]:
    """A cheap picture of the whole database (one statement), and of the attachment store's
    files if given: equal pictures mean nothing was added, removed or changed in place."""
    key = str(connection.engine.url)
    if key not in _STATEMENTS:
        _STATEMENTS[key] = _fingerprint_sql(connection)
    found: dict[str, object] = dict(connection.exec_driver_sql(_STATEMENTS[key]).one()._mapping)
    if attachments_dir is not None:
        files = sorted(str(p) for p in attachments_dir.rglob("*") if p.is_file())
        found["attachment_files"] = files
    return found


__all__ = [
    "AGENTS",
    "CUSTOMERS",
    "WEBHOOK_SLUG",
    "Caller",
    "World",
    "build_world",
    "fingerprint",
]
