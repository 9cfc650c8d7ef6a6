"""The pages (Jinja2 + htmx, server-rendered): ``router`` includes every page router.

Each area module defines its own ``router = APIRouter()`` and adds one line below.
"""

from fastapi import APIRouter

from closeloop.web import auth
from closeloop.web import portal as portal_pages
from closeloop.web.admin import channels as admin_channels
from closeloop.web.admin import fields as admin_fields
from closeloop.web.admin import index as admin_index
from closeloop.web.admin import routing as admin_routing
from closeloop.web.admin import sla as admin_sla
from closeloop.web.admin import users as admin_users
from closeloop.web.agent import new_ticket as agent_new_ticket
from closeloop.web.agent import queues as agent_queues
from closeloop.web.agent import ticket_page as agent_ticket_page
from closeloop.web.agent import views as agent_views
from closeloop.web.live import stream as live_stream

router = APIRouter(include_in_schema=False)
router.include_router(auth.router)
router.include_router(live_stream.router)
router.include_router(agent_queues.router)
router.include_router(agent_views.router)
router.include_router(agent_ticket_page.router)
router.include_router(portal_pages.router)
router.include_router(agent_new_ticket.router)
router.include_router(admin_index.router)
router.include_router(admin_users.router)
router.include_router(admin_fields.router)
router.include_router(admin_sla.router)
router.include_router(admin_routing.router)
router.include_router(admin_channels.router)
