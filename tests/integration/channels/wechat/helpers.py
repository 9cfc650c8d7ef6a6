"""Reading back what the WeChat tests did (through the owners' services)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind
from closeloop.channels.wechat import repository
from closeloop.channels.wechat.models import WeChatAccount, WeChatDelivery, WeChatFollower
from closeloop.db.session import UnitOfWork
from closeloop.jobs.models import Job
from closeloop.tickets import service as tickets
from closeloop.tickets.domain import TicketQuery
from closeloop.tickets.models import Attachment, Message, Ticket

from .support import OPENID

T = TypeVar("T")


def _detached(uow: UnitOfWork, value: T) -> T:
    """Keep the loaded rows readable after the unit of work ends (it rolls back)."""
    uow.session.expunge_all()
    return value


def wechat_tickets(make_uow: Callable[[], UnitOfWork], openid: str = OPENID) -> list[Ticket]:
    """The customer's tickets, oldest first."""
    with make_uow() as uow:
        customer = accounts.find_customer_by_identity(uow, IdentityKind.wechat_openid, openid)
        if customer is None:
            return []
        query = TicketQuery(requester_ids=(customer.id,), descending=False, limit=100)
        return _detached(uow, list(tickets.list_tickets(uow, query=query, actor=SYSTEM).items))


def thread(
    make_uow: Callable[[], UnitOfWork], ticket_id: int
) -> list[tuple[Message, list[Attachment]]]:
    with make_uow() as uow:
        return _detached(uow, tickets.list_messages(uow, ticket_id=ticket_id, actor=SYSTEM))


def follower(
    make_uow: Callable[[], UnitOfWork], account_id: int, openid: str = OPENID
) -> WeChatFollower | None:
    with make_uow() as uow:
        return _detached(uow, repository.follower(uow.session, account_id, openid))


def account(make_uow: Callable[[], UnitOfWork], account_id: int) -> WeChatAccount:
    with make_uow() as uow:
        found = repository.account(uow.session, account_id)
        assert found is not None
        return _detached(uow, found)


def deliveries(make_uow: Callable[[], UnitOfWork], ticket_id: int) -> list[WeChatDelivery]:
    with make_uow() as uow:
        return _detached(uow, list(repository.deliveries_of_ticket(uow.session, ticket_id)))


def jobs(make_uow: Callable[[], UnitOfWork], name: str) -> list[Job]:
    with make_uow() as uow:
        found = uow.session.scalars(select(Job).where(Job.name == name).order_by(Job.id))
        return _detached(uow, list(found))


def customer_count(make_uow: Callable[[], UnitOfWork], openid: str = OPENID) -> int:
    with make_uow() as uow:
        found = accounts.find_customer_by_identity(uow, IdentityKind.wechat_openid, openid)
        return 0 if found is None else 1
