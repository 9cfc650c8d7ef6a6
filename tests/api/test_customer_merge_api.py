"""HTTP contract of merging customers and of listing a customer's identities."""

from __future__ import annotations

from fastapi.testclient import TestClient
from tests.builders import bearer, make_agent, make_customer, make_ticket

from closeloop.db.session import UnitOfWork
from closeloop.kit.events import EventBus
from closeloop.tickets.models import Ticket
from closeloop.wiring import subscribe_customer_reactions


def test_merge_moves_everything_and_answers_the_survivor(
    client: TestClient, uow: UnitOfWork, bus: EventBus
) -> None:
    subscribe_customer_reactions(bus)
    headers = bearer(uow, make_agent(uow).email)
    source = make_customer(uow, email="caller@example.cn")
    survivor = make_customer(uow, email="li.lei@example.cn")
    ticket = make_ticket(uow, requester=source)
    uow.commit()

    response = client.post(
        f"/api/v1/customers/{source.id}/merge",
        json={"into_customer_id": survivor.id},
        headers=headers,
    )

    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["id"] == survivor.id
    assert [i["value"] for i in answer["identities"]["email"]] == [
        "li.lei@example.cn",
        "caller@example.cn",
    ]
    assert (
        client.get(f"/api/v1/customers/{source.id}", headers=headers).json()["merged_into_id"]
        == survivor.id
    )
    uow.session.expire_all()
    assert uow.session.get(Ticket, ticket.id).requester_id == survivor.id  # type: ignore[union-attr]
    identities = client.get(f"/api/v1/customers/{survivor.id}/identities", headers=headers)
    assert [(i["kind"], i["value"], i["is_primary"]) for i in identities.json()] == [
        ("email", "caller@example.cn", False),
        ("email", "li.lei@example.cn", True),
    ]
    again = client.post(
        f"/api/v1/customers/{source.id}/merge",
        json={"into_customer_id": survivor.id},
        headers=headers,
    )
    assert (again.status_code, again.json()["code"]) == (409, "customer.merge_refused")
    itself = client.post(
        f"/api/v1/customers/{survivor.id}/merge",
        json={"into_customer_id": survivor.id},
        headers=headers,
    )
    assert (itself.status_code, itself.json()["code"]) == (409, "customer.merge_refused")
    assert "itself" in itself.json()["detail"]
    changed = client.patch(f"/api/v1/customers/{source.id}", json={"name": "x"}, headers=headers)
    assert (changed.status_code, changed.json()["code"]) == (409, "customer.merged")


def test_a_customer_reads_only_their_own_identities(client: TestClient, uow: UnitOfWork) -> None:
    me, other = make_customer(uow, email="me@example.cn"), make_customer(uow)
    headers = bearer(uow, "me@example.cn")
    uow.commit()
    mine = client.get(f"/api/v1/customers/{me.id}/identities", headers=headers)
    assert [i["value"] for i in mine.json()] == ["me@example.cn"]
    assert (
        client.get(f"/api/v1/customers/{other.id}/identities", headers=headers).status_code == 404
    )
