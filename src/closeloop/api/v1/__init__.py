"""Version 1 of the JSON API: one router per feature."""

from fastapi import APIRouter

from closeloop.api.v1 import (
    agents,
    api_tokens,
    attachments,
    auth,
    channels,
    companies,
    crm,
    custom_fields,
    customers,
    jobs,
    mailboxes,
    notifications,
    organisation,
    routing,
    skills,
    sla,
    teams,
    ticket_relations,
    tickets,
    webhooks,
    wechat,
)

router = APIRouter()
router.include_router(auth.router)
router.include_router(tickets.router)
router.include_router(agents.router)
router.include_router(teams.router)
router.include_router(skills.router)
router.include_router(customers.router)
router.include_router(companies.router)
router.include_router(organisation.router)
router.include_router(api_tokens.router)
router.include_router(jobs.router)
router.include_router(ticket_relations.router)
router.include_router(attachments.router)
router.include_router(custom_fields.router)
router.include_router(notifications.router)
router.include_router(channels.router)
router.include_router(mailboxes.router)
router.include_router(sla.router)
router.include_router(routing.router)
router.include_router(routing.ticket_router)
router.include_router(wechat.router)
router.include_router(webhooks.router)
router.include_router(crm.router)
