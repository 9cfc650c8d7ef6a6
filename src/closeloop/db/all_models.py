"""Imports every feature's models so Alembic and the mapper see one metadata."""

from closeloop.accounts import models as accounts_models
from closeloop.audit import models as audit_models
from closeloop.channels import models as channels_models  # noqa: F401 (inbound log)
from closeloop.channels.crm import models as crm_models  # noqa: F401 (CRM lookup)
from closeloop.channels.email import models as email_models  # noqa: F401 (mailboxes)
from closeloop.channels.webhook import models as webhook_models  # noqa: F401 (sources)
from closeloop.channels.wechat import models as wechat_models  # noqa: F401 (WeChat channel)
from closeloop.db import config_versions as config_versions_models  # noqa: F401 (cache tokens)
from closeloop.db.base import Base
from closeloop.idempotency import models as idempotency_models
from closeloop.jobs import models as jobs_models  # noqa: F401 (the jobs table)
from closeloop.notifications import models as notifications_models  # noqa: F401
from closeloop.routing import model_store as routing_model_store  # noqa: F401 (classifier)
from closeloop.routing import models as routing_models  # noqa: F401 (rules, queues)
from closeloop.sla import models as sla_models  # noqa: F401 (calendars, policies, clocks)
from closeloop.tickets import models as tickets_models
from closeloop.tickets.macros import models as macros_models  # noqa: F401 (canned responses)
from closeloop.tickets.saved_views import models as saved_views_models  # noqa: F401 (saved views)

metadata = Base.metadata

__all__ = ["accounts_models", "audit_models", "idempotency_models", "metadata", "tickets_models"]
