"""Every query on the webhook tables."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from closeloop.channels.webhook.models import WebhookSource, WebhookTicketReference


def sources(session: Session) -> Sequence[WebhookSource]:
    return session.scalars(
        select(WebhookSource).order_by(WebhookSource.name, WebhookSource.id)
    ).all()


def source_by_slug(session: Session, slug: str) -> WebhookSource | None:
    return session.scalars(select(WebhookSource).where(WebhookSource.slug == slug)).first()


def source_for_update(session: Session, source_id: int) -> WebhookSource | None:
    return session.scalars(
        select(WebhookSource)
        .where(WebhookSource.id == source_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).first()


def slug_taken(session: Session, slug: str) -> bool:
    return session.scalar(select(exists().where(WebhookSource.slug == slug))) is True


def ticket_reference(
    session: Session, source_id: int, external_id: str
) -> WebhookTicketReference | None:
    return session.scalars(
        select(WebhookTicketReference).where(
            WebhookTicketReference.source_id == source_id,
            WebhookTicketReference.external_id == external_id,
        )
    ).first()
