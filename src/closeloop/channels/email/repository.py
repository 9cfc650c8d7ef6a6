"""Every query on the email channel's tables."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from closeloop.channels.email.models import EmailMailbox, EmailTeamSettings, OutgoingEmail


def mailboxes(session: Session) -> Sequence[EmailMailbox]:
    return session.scalars(select(EmailMailbox).order_by(EmailMailbox.id)).all()


def mailbox(session: Session, mailbox_id: int, *, for_update: bool = False) -> EmailMailbox | None:
    query = select(EmailMailbox).where(EmailMailbox.id == mailbox_id)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def mailbox_by_address(session: Session, address: str) -> EmailMailbox | None:
    return session.scalars(select(EmailMailbox).where(EmailMailbox.address == address)).first()


def active_polled_mailbox_ids(session: Session) -> Sequence[int]:
    """Active mailboxes with an IMAP server to poll."""
    return session.scalars(
        select(EmailMailbox.id)
        .where(EmailMailbox.is_active.is_(True), EmailMailbox.imap_host != "")
        .order_by(EmailMailbox.id)
    ).all()


def active_addresses(session: Session) -> Sequence[str]:
    return session.scalars(
        select(EmailMailbox.address).where(EmailMailbox.is_active.is_(True))
    ).all()


def team_mailbox(session: Session, team_id: int) -> EmailMailbox | None:
    """The team's sending address: its first active mailbox, else its first one."""
    return session.scalars(
        select(EmailMailbox)
        .where(EmailMailbox.team_id == team_id)
        .order_by(EmailMailbox.is_active.desc(), EmailMailbox.id)
        .limit(1)
    ).first()


def take_poll_lease(
    session: Session, mailbox_id: int, *, token: str, now: datetime, until: datetime
) -> bool:
    """Make ``token`` the mailbox's poller until ``until``: when nobody else holds it, or the
    holder's lease ran out, or ``token`` holds it already. One conditional UPDATE: race-free."""
    result = session.execute(
        update(EmailMailbox)
        .where(
            EmailMailbox.id == mailbox_id,
            or_(
                EmailMailbox.poll_token.is_(None),
                EmailMailbox.poll_token == token,
                EmailMailbox.poll_locked_until.is_(None),
                EmailMailbox.poll_locked_until < now,
            ),
        )
        .values(poll_token=token, poll_locked_until=until)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0))


def team_settings(session: Session, team_id: int) -> EmailTeamSettings | None:
    return session.get(EmailTeamSettings, team_id)


def outgoing_by_key(session: Session, dedupe_key: str) -> OutgoingEmail | None:
    return session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.dedupe_key == dedupe_key)
    ).first()


def outgoing_for_sending(session: Session, outgoing_id: int) -> OutgoingEmail | None:
    return session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.id == outgoing_id).with_for_update()
    ).one_or_none()


def outgoing_of_ticket(session: Session, ticket_id: int) -> Sequence[OutgoingEmail]:
    return session.scalars(
        select(OutgoingEmail).where(OutgoingEmail.ticket_id == ticket_id).order_by(OutgoingEmail.id)
    ).all()
