"""The ticket page of the agent workspace (``/agent/tickets/{id}``), split by concern: the page
and its fragments, the conversation, field changes, macros, presence, and the agent's own
canned responses (``/agent/canned-responses``)."""

from fastapi import APIRouter

from closeloop.web.agent.ticket_page import canned_responses, conversation, fields, macros, pages

router = APIRouter()
for module in (pages, conversation, fields, macros, canned_responses):
    router.include_router(module.router)

__all__ = ["router"]
