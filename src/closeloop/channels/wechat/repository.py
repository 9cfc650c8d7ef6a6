"""Every query on the WeChat channel's tables."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from closeloop.channels.wechat.models import WeChatAccount, WeChatDelivery, WeChatFollower


def accounts(session: Session) -> Sequence[WeChatAccount]:
    return session.scalars(select(WeChatAccount).order_by(WeChatAccount.id)).all()


def account(session: Session, account_id: int) -> WeChatAccount | None:
    return session.get(WeChatAccount, account_id)


def account_by_app_id(session: Session, app_id: str) -> WeChatAccount | None:
    return session.scalars(select(WeChatAccount).where(WeChatAccount.app_id == app_id)).first()


def follower(session: Session, account_id: int, openid: str) -> WeChatFollower | None:
    return session.scalars(
        select(WeChatFollower).where(
            WeChatFollower.account_id == account_id, WeChatFollower.openid == openid
        )
    ).first()


def followers_of_customer(session: Session, customer_id: int) -> Sequence[WeChatFollower]:
    """The customer's follower rows, the most recently active first."""
    return session.scalars(
        select(WeChatFollower)
        .where(WeChatFollower.customer_id == customer_id)
        .order_by(WeChatFollower.last_interaction_at.desc().nulls_last(), WeChatFollower.id.desc())
    ).all()


def follower_of_ticket(session: Session, ticket_id: int) -> WeChatFollower | None:
    """The follower whose last message went to this ticket (most recent first)."""
    return session.scalars(
        select(WeChatFollower)
        .where(WeChatFollower.last_ticket_id == ticket_id)
        .order_by(WeChatFollower.last_interaction_at.desc().nulls_last(), WeChatFollower.id.desc())
    ).first()


def delivery_for_message(session: Session, message_id: int) -> WeChatDelivery | None:
    return session.scalars(
        select(WeChatDelivery).where(WeChatDelivery.message_id == message_id)
    ).first()


def delivery_for_sending(session: Session, delivery_id: int) -> WeChatDelivery | None:
    """The delivery, row-locked on PostgreSQL (SQLite's write lock serialises anyway)."""
    return session.scalars(
        select(WeChatDelivery).where(WeChatDelivery.id == delivery_id).with_for_update()
    ).first()


def deliveries_of_ticket(session: Session, ticket_id: int) -> Sequence[WeChatDelivery]:
    return session.scalars(
        select(WeChatDelivery)
        .where(WeChatDelivery.ticket_id == ticket_id)
        .order_by(WeChatDelivery.id)
    ).all()
