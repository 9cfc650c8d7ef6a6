"""The customer's private link page (``/t/{number}/{token}``): token check, the public thread
only, replies through the inbound pipeline, confirm/reopen, follow-ups, downloads, limits."""

from __future__ import annotations

import io
import re

from fastapi.testclient import TestClient

from closeloop.accounts.domain import SYSTEM, Principal, Role
from closeloop.accounts.models import Customer
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.tickets import service as tickets
from closeloop.tickets.attachment_store import AttachmentStore
from closeloop.tickets.customer_links import customer_link_path, customer_link_token
from closeloop.tickets.domain import MessageKind, TicketStatus
from closeloop.tickets.models import Ticket
from closeloop.tickets.schemas import MessageCreate
from tests.builders import make_agent, make_customer, make_ticket, principal_of
from tests.web.conftest import form_csrf

_FORM_ID = re.compile(r'name="form_id" value="([^"]+)"')


def _agent(uow: UnitOfWork) -> Principal:
    return principal_of(uow, make_agent(uow, name="李雷", role=Role.supervisor))


def _world(uow: UnitOfWork) -> tuple[Customer, Ticket, Principal]:
    customer = make_customer(uow, name="王芳", email="wang.fang@example.cn")
    ticket = make_ticket(uow, requester=customer, subject="VPN 无法连接")
    agent = _agent(uow)
    tickets.add_message(
        uow,
        ticket_id=ticket.id,
        data=MessageCreate(kind=MessageKind.public_reply, body="请重启路由器后再试。"),
        actor=agent,
        via="test",
    )
    tickets.add_message(
        uow,
        ticket_id=ticket.id,
        data=MessageCreate(kind=MessageKind.internal_note, body="SECRET-NOTE 客户是 VIP"),
        actor=agent,
        via="test",
    )
    uow.commit()
    return customer, ticket, agent


def _link(settings: Settings, ticket_id: int) -> str:
    return customer_link_path(settings.secret_key.get_secret_value(), ticket_id)


def _fresh(uow: UnitOfWork) -> None:
    """Forget what the test's session cached: the app wrote meanwhile (audit chain heads too)."""
    uow.session.expire_all()
    uow.session.info.clear()


def _resolve(uow: UnitOfWork, ticket_id: int, agent: Principal) -> None:
    _fresh(uow)
    current = tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM)
    tickets.transition(
        uow,
        ticket_id=ticket_id,
        target=TicketStatus.resolved,
        pending_reason=None,
        expected_version=current.version,
        actor=agent,
        via="test",
    )
    uow.commit()


def _reply(client: TestClient, link: str, body: str, files: object = None) -> tuple[int, str]:
    page = client.get(link)
    assert page.status_code == 200
    found = _FORM_ID.search(page.text)
    assert found is not None
    response = client.post(
        f"{link}/reply",
        data={"csrf_token": form_csrf(page.text), "form_id": found.group(1), "body": body},
        files=files,
        follow_redirects=False,
    )
    return response.status_code, response.headers.get("location", response.text)


def _status(uow: UnitOfWork, ticket_id: int) -> str:
    _fresh(uow)
    return tickets.get_ticket(uow, ticket_id=ticket_id, actor=SYSTEM).status


def test_the_page_shows_the_public_thread_only(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    _customer, ticket, _agent_principal = _world(uow)
    page = client.get(_link(settings, ticket.id))
    assert page.status_code == 200
    assert "VPN 无法连接" in page.text
    assert "TK-" in page.text
    assert "请重启路由器后再试。" in page.text
    assert "SECRET-NOTE" not in page.text
    assert 'class="badge status status-in-progress"' in page.text
    fragment = client.get(_link(settings, ticket.id) + "/thread", headers={"HX-Request": "true"})
    assert "请重启路由器后再试。" in fragment.text
    assert "SECRET-NOTE" not in fragment.text


def test_a_wrong_token_answers_the_same_404_as_a_missing_ticket(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    _customer, ticket, _agent_principal = _world(uow)
    good = _link(settings, ticket.id)
    number = good.split("/")[2]
    wrong = client.get(f"/t/{number}/{'x' * 20}")
    other_token = customer_link_token(settings.secret_key.get_secret_value(), ticket.id + 1)
    tampered = client.get(f"/t/{number}/{other_token}")
    missing = client.get(_link(settings, 999_999))
    assert wrong.status_code == tampered.status_code == missing.status_code == 404
    assert wrong.text == missing.text == tampered.text
    assert "VPN" not in wrong.text
    assert client.get(f"{good.rsplit('/', 1)[0]}/{'x' * 20}/thread").status_code == 404


def test_a_reply_is_a_customer_message_and_reopens_a_resolved_ticket(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    _customer, ticket, agent = _world(uow)
    _resolve(uow, ticket.id, agent)
    link = _link(settings, ticket.id)
    status, location = _reply(
        client,
        link,
        "还是连不上，错误码 809。",
        files=[("files", ("日志.txt", b"log line", "text/plain"))],
    )
    assert status == 303
    assert location == link + "#reply"
    assert _status(uow, ticket.id) == "open"
    thread = tickets.list_messages(uow, ticket_id=ticket.id, actor=SYSTEM)
    message, files = thread[-1]
    assert message.kind == "customer_message"
    assert message.channel == "portal"
    assert message.body_text == "还是连不上，错误码 809。"
    assert [f.filename for f in files] == ["日志.txt"]
    page = client.get(link)
    assert "还是连不上，错误码 809。" in page.text
    # The file downloads through the link, and only through a valid one.
    download = client.get(f"{link}/attachments/{files[0].id}")
    assert download.status_code == 200
    assert download.content == b"log line"
    assert "attachment;" in download.headers["content-disposition"]
    number = link.split("/")[2]
    assert client.get(f"/t/{number}/{'y' * 20}/attachments/{files[0].id}").status_code == 404


def test_posting_the_same_reply_twice_adds_one_message(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    _customer, ticket, _agent_principal = _world(uow)
    link = _link(settings, ticket.id)
    page = client.get(link)
    form_id = _FORM_ID.search(page.text)
    assert form_id is not None
    data = {"csrf_token": form_csrf(page.text), "form_id": form_id.group(1), "body": "谢谢"}
    for _attempt in range(2):
        assert client.post(f"{link}/reply", data=data, follow_redirects=False).status_code == 303
    thread = tickets.list_messages(uow, ticket_id=ticket.id, actor=SYSTEM)
    assert [m.body_text for m, _files in thread].count("谢谢") == 1


def test_an_empty_reply_is_refused_and_a_csrf_less_one_too(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    _customer, ticket, _agent_principal = _world(uow)
    link = _link(settings, ticket.id)
    status, body = _reply(client, link, "   ")
    assert status == 422
    assert 'id="body-error"' in body
    refused = client.post(f"{link}/reply", data={"body": "hi"}, follow_redirects=False)
    assert refused.status_code == 403


def test_confirm_closes_and_reopen_opens(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    _customer, ticket, agent = _world(uow)
    _resolve(uow, ticket.id, agent)
    link = _link(settings, ticket.id)
    page = client.get(link)
    assert 'id="confirm-solved"' in page.text
    assert 'id="reopen"' in page.text
    token = form_csrf(page.text)
    reopened = client.post(f"{link}/reopen", data={"csrf_token": token}, follow_redirects=False)
    assert reopened.status_code == 303
    assert _status(uow, ticket.id) == "open"
    # Not resolved any more: confirming now is refused and changes nothing.
    refused = client.post(f"{link}/confirm", data={"csrf_token": token}, follow_redirects=False)
    assert refused.status_code in (403, 409)
    assert _status(uow, ticket.id) == "open"
    _resolve(uow, ticket.id, agent)
    confirmed = client.post(f"{link}/confirm", data={"csrf_token": token}, follow_redirects=False)
    assert confirmed.status_code == 303
    assert _status(uow, ticket.id) == "closed"
    assert 'id="confirm-solved"' not in client.get(link).text


def test_a_reply_on_a_closed_ticket_opens_a_follow_up_with_its_own_link(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    customer, ticket, agent = _world(uow)
    _resolve(uow, ticket.id, agent)
    current = tickets.get_ticket(uow, ticket_id=ticket.id, actor=SYSTEM)
    tickets.transition(
        uow,
        ticket_id=ticket.id,
        target=TicketStatus.closed,
        pending_reason=None,
        expected_version=current.version,
        actor=agent,
        via="test",
    )
    uow.commit()
    link = _link(settings, ticket.id)
    status, location = _reply(client, link, "又出现了同样的问题。")
    assert status == 303
    assert location != link
    follow_up_page = client.get(location)
    assert follow_up_page.status_code == 200
    assert "又出现了同样的问题。" in follow_up_page.text
    number = location.split("/")[2]
    follow_up = tickets.get_ticket(uow, ticket_id=int(number.split("-")[1]), actor=SYSTEM)
    assert follow_up.requester_id == customer.id
    assert follow_up.id != ticket.id
    assert _status(uow, ticket.id) == "closed"


def test_replies_are_limited_per_ticket(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    _customer, ticket, _agent_principal = _world(uow)
    link = _link(settings, ticket.id)
    for number in range(settings.portal_replies_per_ticket):
        status, _location = _reply(client, link, f"reply {number}")
        assert status == 303
    status, body = _reply(client, link, "one too many")
    assert status == 429
    assert "one too many" in body  # the draft is kept
    thread = tickets.list_messages(uow, ticket_id=ticket.id, actor=SYSTEM)
    assert all(m.body_text != "one too many" for m, _files in thread)


def test_internal_attachments_are_not_downloadable(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    _customer, ticket, agent = _world(uow)
    upload = tickets.upload_attachment(
        uow,
        ticket_id=ticket.id,
        filename="internal.txt",
        content_type="text/plain",
        stream=io.BytesIO(b"internal"),
        store=AttachmentStore(settings.attachments_dir),
        max_bytes=settings.max_attachment_bytes,
        blocked_extensions=settings.blocked_attachment_extensions,
        actor=agent,
        via="test",
    )
    tickets.add_message(
        uow,
        ticket_id=ticket.id,
        data=MessageCreate(kind=MessageKind.internal_note, body="note", attachment_ids=[upload.id]),
        actor=agent,
        via="test",
    )
    uow.commit()
    link = _link(settings, ticket.id)
    assert "internal.txt" not in client.get(link).text
    assert client.get(f"{link}/attachments/{upload.id}").status_code == 404
