"""Every query on the CRM settings table."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from closeloop.channels.crm.models import CrmSettings


def settings_row(session: Session, *, for_update: bool = False) -> CrmSettings | None:
    query = select(CrmSettings).order_by(CrmSettings.id).limit(1)
    if for_update:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.scalars(query).first()
