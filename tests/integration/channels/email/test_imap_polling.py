"""Polling a real IMAP server (a private Dovecot): every message becomes a ticket or a message
exactly once, in UID order, resumably; \\Seen is set only after a message is stored; a changed
UIDVALIDITY starts over without taking anything twice; one poller per mailbox."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select

from closeloop.accounts.models import Team
from closeloop.channels.email import repository
from closeloop.channels.email.models import EmailMailbox
from closeloop.db.session import UnitOfWork
from closeloop.jobs import enqueue
from closeloop.kit.clock import FrozenClock
from closeloop.tickets.models import Message, Ticket

from .conftest import RunJobs, add_mailbox
from .dovecot import Dovecot
from .mail import customer_email

_ticks = itertools.count()


def poll(make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs) -> int:
    """One tick of ``channels.email.poll``, run to the end of every fetch chain."""
    with make_uow() as uow:
        enqueue(uow, "channels.email.poll", {"slot": f"tick-{next(_ticks)}"})
        uow.commit()
    return run_jobs()


@dataclass(frozen=True)
class PollState:
    uidvalidity: int | None
    last_uid: int
    poll_token: str | None
    last_error: str | None


def _mailbox(make_uow: Callable[[], UnitOfWork], mailbox_id: int) -> PollState:
    with make_uow() as uow:
        found = uow.session.get(EmailMailbox, mailbox_id)
        assert found is not None
        return PollState(found.uidvalidity, found.last_uid, found.poll_token, found.last_error)


def _subjects(make_uow: Callable[[], UnitOfWork]) -> list[str]:
    with make_uow() as uow:
        return list(uow.session.scalars(select(Ticket.subject).order_by(Ticket.id)))


def _messages(make_uow: Callable[[], UnitOfWork]) -> int:
    with make_uow() as uow:
        return int(uow.session.scalar(select(func.count()).select_from(Message)) or 0)


def _mailbox_for(make_uow: Callable[[], UnitOfWork], team: Team, dovecot: Dovecot) -> int:
    with make_uow() as uow:
        mailbox = add_mailbox(uow, team, dovecot=dovecot)
        uow.commit()
        return mailbox.id


def test_each_message_becomes_a_ticket_once_in_uid_order_and_is_flagged_seen(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, team: Team, dovecot: Dovecot
) -> None:
    mailbox_id = _mailbox_for(make_uow, team, dovecot)
    uids = [dovecot.append(customer_email(subject=f"问题 {n}")) for n in range(3)]

    poll(make_uow, run_jobs)
    assert _subjects(make_uow) == ["问题 0", "问题 1", "问题 2"]
    state = _mailbox(make_uow, mailbox_id)
    assert state.last_uid == uids[-1]
    assert state.uidvalidity is not None
    assert (state.poll_token, state.last_error) == (None, None)
    assert dovecot.seen_uids() == set(uids)
    assert dovecot.count() == 3  # never deleted

    poll(make_uow, run_jobs)  # nothing new
    assert len(_subjects(make_uow)) == 3

    later = dovecot.append(customer_email(subject="问题 3"))
    poll(make_uow, run_jobs)
    assert _subjects(make_uow)[-1] == "问题 3"
    assert _mailbox(make_uow, mailbox_id).last_uid == later


def test_a_poller_that_starts_over_takes_nothing_twice(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, team: Team, dovecot: Dovecot
) -> None:
    mailbox_id = _mailbox_for(make_uow, team, dovecot)
    uids = [dovecot.append(customer_email(subject=f"重复 {n}")) for n in range(3)]
    poll(make_uow, run_jobs)
    messages = _messages(make_uow)

    # As after a crash between the commit of a message and anything after it; and as after a
    # changed UIDVALIDITY (the folder was rebuilt): everything is read again.
    with make_uow() as uow:
        mailbox = uow.session.get(EmailMailbox, mailbox_id)
        assert mailbox is not None
        mailbox.last_uid = 0
        uow.commit()
    poll(make_uow, run_jobs)
    with make_uow() as uow:
        mailbox = uow.session.get(EmailMailbox, mailbox_id)
        assert mailbox is not None
        mailbox.uidvalidity = 12345
        uow.commit()
    poll(make_uow, run_jobs)

    assert len(_subjects(make_uow)) == 3
    assert _messages(make_uow) == messages
    state = _mailbox(make_uow, mailbox_id)
    assert state.uidvalidity != 12345
    assert state.last_uid == uids[-1]


def test_seen_is_left_alone_when_the_mailbox_says_so(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, team: Team, dovecot: Dovecot
) -> None:
    with make_uow() as uow:
        add_mailbox(uow, team, dovecot=dovecot, mark_seen=False)
        uow.commit()
    dovecot.append(customer_email())
    poll(make_uow, run_jobs)
    assert len(_subjects(make_uow)) == 1
    assert dovecot.seen_uids() == set()


def test_a_mailbox_another_poller_holds_is_left_to_it(
    make_uow: Callable[[], UnitOfWork],
    run_jobs: RunJobs,
    team: Team,
    dovecot: Dovecot,
    clock: FrozenClock,
) -> None:
    mailbox_id = _mailbox_for(make_uow, team, dovecot)
    dovecot.append(customer_email())
    with make_uow() as uow:
        assert repository.take_poll_lease(
            uow.session,
            mailbox_id,
            token="other-worker",
            now=clock.now(),
            until=clock.now() + timedelta(hours=1),
        )
        uow.commit()
    poll(make_uow, run_jobs)
    assert _subjects(make_uow) == []

    # Its lease runs out (the other worker died): the next tick takes over.
    clock.advance(timedelta(hours=2))
    poll(make_uow, run_jobs)
    assert len(_subjects(make_uow)) == 1


def test_a_refused_login_is_recorded_without_the_password(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, team: Team, dovecot: Dovecot
) -> None:
    with make_uow() as uow:
        mailbox_id = add_mailbox(uow, team, dovecot=dovecot, password="not-the-password-42").id
        uow.commit()
    dovecot.append(customer_email())
    poll(make_uow, run_jobs)
    state = _mailbox(make_uow, mailbox_id)
    assert state.last_error is not None
    assert "not-the-password-42" not in state.last_error
    assert (state.last_uid, state.poll_token) == (0, None)
    assert _subjects(make_uow) == []


def test_a_message_that_cannot_be_parsed_is_quarantined_and_polling_goes_on(
    make_uow: Callable[[], UnitOfWork], run_jobs: RunJobs, team: Team, dovecot: Dovecot
) -> None:
    mailbox_id = _mailbox_for(make_uow, team, dovecot)
    dovecot.append(b"\x00\x00\x00")
    last = dovecot.append(customer_email(subject="after the bad one"))
    poll(make_uow, run_jobs)
    assert _subjects(make_uow) == ["after the bad one"]
    assert _mailbox(make_uow, mailbox_id).last_uid == last
