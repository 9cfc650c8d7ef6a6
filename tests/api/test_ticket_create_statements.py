"""Opening a ticket through the API is a fixed number of SQL statements, with every reaction of
the production event bus (routing triage, SLA clocks, notifications, channels): the hot path of
every channel. A change that adds a statement fails here; update the number only on purpose
(and the figures of record in bench/README.md)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from tests.builders import bearer, make_agent, make_customer

from closeloop import wiring
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.db.session import UnitOfWork
from closeloop.sla import service as sla

EXPECTED = {
    # token with its agent, the agent's teams, the requester, the type's custom fields, the
    # configuration versions (SLA and routing caches), the ticket's routing state, the ticket
    # read back for the response (its SLA summary was written by a Core UPDATE).
    "SELECT": 7,
    # ticket, tag, search document, audit (created), routing decisions (given type and
    # priority), routing state, audit (triaged), SLA clock, the clock's check timer.
    "INSERT": 9,
    "UPDATE": 1,  # the ticket's SLA summary
    "DELETE": 0,
}
# SQLite inserts the two routing decisions one by one (their ids come back with RETURNING);
# PostgreSQL sends them as one statement.
EXTRA_INSERTS = {"sqlite": 1, "postgresql": 0}


@contextmanager
def count_statements(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


def _kinds(statements: list[str]) -> Counter[str]:
    return Counter(s.split(None, 1)[0].upper() for s in statements)


def test_one_api_ticket_creation_is_a_fixed_number_of_statements(
    app: FastAPI, client: TestClient, uow: UnitOfWork, engine: Engine, backend: str
) -> None:
    app.state.bus = wiring.build_event_bus()
    sla.seed_default_sla(uow, actor=SYSTEM)
    admin = make_agent(uow, role=Role.admin)
    headers = bearer(uow, admin.email)
    customer = make_customer(uow)
    uow.commit()
    body = {
        "subject": "打印机无法连接网络",
        "description": "Since Monday the printer is offline.",
        "type": "fault",
        "priority": "P2",
        "channel": "api",
        "requester_id": customer.id,
        "tags": ["printer"],
    }
    # The token's last-used stamp and the process caches are filled once.
    assert client.post("/api/v1/tickets", json=body, headers=headers).status_code == 201
    with count_statements(engine) as statements:
        response = client.post("/api/v1/tickets", json=body, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["sla_state"] == "running"
    kinds = _kinds(statements)
    expected = {**EXPECTED, "INSERT": EXPECTED["INSERT"] + EXTRA_INSERTS[backend]}
    assert {k: kinds[k] for k in expected} == expected, (dict(kinds), "\n".join(statements))
