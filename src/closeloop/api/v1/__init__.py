"""Version 1 of the JSON API: one router per feature."""

from fastapi import APIRouter

from closeloop.api.v1 import auth, tickets

router = APIRouter()
router.include_router(auth.router)
router.include_router(tickets.router)
