"""The customer-facing pages, no sign-in: the public web form (``/forms/new``) and the private
ticket link (``/t/{number}/{token}``)."""

from fastapi import APIRouter

from closeloop.web.portal import ticket_link, webform

router = APIRouter()
for module in (webform, ticket_link):
    router.include_router(module.router)

__all__ = ["router"]
