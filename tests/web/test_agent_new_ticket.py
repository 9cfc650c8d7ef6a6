"""A new ticket on behalf of a customer (``/agent/tickets/new``): customer search or create,
the ticket's fields, inline errors with values kept, and who may open the page."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind
from closeloop.accounts.models import Agent
from closeloop.db.session import UnitOfWork
from closeloop.tickets import service as tickets
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.domain import TicketType
from tests.builders import make_agent, make_custom_field, make_customer, make_team
from tests.web.conftest import SignIn

_CREATED = re.compile(r"^/agent/tickets/(\d+)$")


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "channel": "phone",
        "type": "fault",
        "priority": "P2",
        "team_id": "",
        "assignee_id": "",
        "subject": "打印机卡纸",
        "description": "来电：三楼打印机卡纸。",
        "tags": "打印机, floor-3",
    }
    data.update(overrides)
    return data


def test_search_finds_customers_by_name_email_and_phone(
    agent_client: TestClient, uow: UnitOfWork
) -> None:
    customer = make_customer(uow, name="王芳", email="wang.fang@example.cn")
    accounts.find_or_create_customer(
        uow, kind=IdentityKind.phone, value="13800138000", name="李四", actor=SYSTEM, via="test"
    )
    uow.commit()
    by_name = agent_client.get("/agent/customers/search?q=王", headers={"HX-Request": "true"})
    assert by_name.status_code == 200
    assert f'name="customer_id" value="{customer.id}"' in by_name.text
    assert "wang.fang@example.cn" in by_name.text
    by_email = agent_client.get("/agent/customers/search?q=wang.fang")
    assert f'value="{customer.id}"' in by_email.text
    by_phone = agent_client.get("/agent/customers/search?q=138 0013 8000")
    assert "李四" in by_phone.text
    nobody = agent_client.get("/agent/customers/search?q=zzz-nobody")
    assert 'name="customer_id"' not in nobody.text


def test_new_ticket_for_a_picked_customer(
    agent_client: TestClient, uow: UnitOfWork, web_agent: Agent
) -> None:
    team = make_team(uow, name="Support")
    customer = make_customer(uow, name="王芳")
    make_custom_field(uow, key="floor", field_type=FieldType.number, ticket_type=TicketType.fault)
    uow.commit()
    page = agent_client.get("/agent/tickets/new")
    assert page.status_code == 200
    assert 'id="new-ticket-form"' in page.text
    assert 'href="/agent/tickets/new"' in page.text  # the top bar button
    response = agent_client.post(
        "/agent/tickets/new",
        data=_form(customer_id=str(customer.id), team_id=str(team.id), cf_floor="3"),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    found = _CREATED.match(response.headers["location"])
    assert found is not None
    ticket = tickets.get_ticket(uow, ticket_id=int(found.group(1)), actor=SYSTEM)
    assert ticket.requester_id == customer.id
    assert ticket.channel == "phone"
    assert ticket.type == "fault"
    assert ticket.priority == "P2"
    assert ticket.team_id == team.id
    assert ticket.tags == ["打印机", "floor-3"]
    assert ticket.custom_fields == {"floor": 3}
    assert ticket.description == "来电：三楼打印机卡纸。"


def test_new_ticket_creates_a_new_customer_with_email_and_phone(
    agent_client: TestClient, uow: UnitOfWork
) -> None:
    response = agent_client.post(
        "/agent/tickets/new",
        data=_form(new_name="赵敏", new_email="zhao.min@example.cn", new_phone="13900139000"),
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    customer = accounts.find_customer_by_identity(uow, IdentityKind.phone, "+8613900139000")
    assert customer is not None
    assert customer.name == "赵敏"
    by_email = accounts.find_customer_by_identity(uow, IdentityKind.email, "zhao.min@example.cn")
    assert by_email is not None
    assert by_email.id == customer.id
    found = _CREATED.match(response.headers["location"])
    assert found is not None
    ticket = tickets.get_ticket(uow, ticket_id=int(found.group(1)), actor=SYSTEM)
    assert ticket.requester_id == customer.id


def test_errors_are_shown_inline_with_the_values_kept(
    agent_client: TestClient, uow: UnitOfWork
) -> None:
    make_custom_field(uow, key="serial", ticket_type=TicketType.fault, is_required=True)
    team = make_team(uow, name="Network")
    outsider = make_agent(uow, name="Outsider")
    uow.commit()
    response = agent_client.post(
        "/agent/tickets/new",
        data=_form(subject="", new_name="赵敏", new_email="not-an-email", tags="vpn"),
        follow_redirects=False,
    )
    assert response.status_code == 422
    assert 'id="subject-error"' in response.text
    assert 'id="new_email-error"' in response.text
    assert 'id="cf_serial-error"' in response.text
    assert 'value="赵敏"' in response.text
    assert "来电：三楼打印机卡纸。" in response.text
    assert 'value="vpn"' in response.text
    # A rule of the tickets service (assignee not in the team) comes back next to its field.
    refused = agent_client.post(
        "/agent/tickets/new",
        data=_form(
            new_email="ok@example.cn",
            cf_serial="SN-1",
            team_id=str(team.id),
            assignee_id=str(outsider.id),
        ),
        follow_redirects=False,
    )
    assert refused.status_code == 422
    assert 'id="assignee_id-error"' in refused.text
    assert accounts.find_customer_by_identity(uow, IdentityKind.email, "ok@example.cn") is None


def test_customers_and_anonymous_visitors_cannot_open_the_page(
    client: TestClient, uow: UnitOfWork, signed_in: SignIn
) -> None:
    anonymous = client.get("/agent/tickets/new", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/login?next=")
    assert client.get("/agent/customers/search?q=a", follow_redirects=False).status_code == 303
    customer = make_customer(uow)
    uow.commit()
    token = signed_in(client, customer)
    assert client.get("/agent/tickets/new").status_code == 404
    posted = client.post(
        "/agent/tickets/new",
        data=_form(customer_id=str(customer.id), csrf_token=token),
        follow_redirects=False,
    )
    assert posted.status_code == 404


def test_post_without_csrf_is_refused(
    client: TestClient, uow: UnitOfWork, web_agent: Agent, signed_in: SignIn
) -> None:
    signed_in(client, web_agent)
    customer = make_customer(uow)
    uow.commit()
    response = client.post(
        "/agent/tickets/new", data=_form(customer_id=str(customer.id)), follow_redirects=False
    )
    assert response.status_code == 403
