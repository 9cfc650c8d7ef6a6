"""The public web form (``/forms/new``): per-type custom fields, exactly one ticket per form,
errors next to their fields with the values kept, honeypot, rate limits, CSRF, attachments,
and the confirmation with the private link."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind
from closeloop.config import Settings
from closeloop.db.session import UnitOfWork
from closeloop.kit.ids import format_ticket_number
from closeloop.tickets import service as tickets
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.customer_links import customer_link_path
from closeloop.tickets.domain import TicketType
from closeloop.tickets.models import Ticket
from closeloop.web.session import CSRF_COOKIE
from tests.builders import make_custom_field, make_team
from tests.web.conftest import form_csrf

_FORM_ID = re.compile(r'name="form_id" value="([^"]+)"')


def _open_form(client: TestClient, query: str = "") -> tuple[str, str, str]:
    """GET the form as a browser does: (html, csrf token, form id)."""
    page = client.get("/forms/new" + query)
    assert page.status_code == 200
    found = _FORM_ID.search(page.text)
    assert found is not None
    return page.text, form_csrf(page.text), found.group(1)


def _fields(token: str, form_id: str, **overrides: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "form_id": form_id,
        "name": "王芳",
        "email": "wang.fang@example.cn",
        "phone": "",
        "type": "inquiry",
        "subject": "发票抬头需要修改",
        "description": "请把发票抬头改为 上海某某有限公司。",
    }
    data.update(overrides)
    return data


def _post(client: TestClient, data: dict[str, str], files: Any = None) -> Response:
    response: Response = client.post("/forms/new", data=data, files=files, follow_redirects=False)
    return response


def _tickets(uow: UnitOfWork) -> list[Ticket]:
    return list(tickets.list_tickets(uow, query=_all(), actor=SYSTEM).items)


def _all() -> Any:
    from closeloop.tickets.domain import TicketQuery

    return TicketQuery(limit=100)


def test_form_renders_the_fields_of_the_chosen_type(client: TestClient, uow: UnitOfWork) -> None:
    make_custom_field(
        uow, key="device_serial", ticket_type=TicketType.fault, is_required=True,
        label_en="Device serial",
    )  # fmt: skip
    make_custom_field(
        uow,
        key="invoice_month",
        field_type=FieldType.date,
        ticket_type=TicketType.request,
        label_en="Invoice month",
    )
    uow.commit()
    fault, _token, _id = _open_form(client, "?type=fault")
    assert 'name="cf_device_serial"' in fault
    assert 'name="cf_invoice_month"' not in fault
    assert 'name="website"' in fault  # the honeypot
    request_page = client.get("/forms/new/fields?type=request", headers={"HX-Request": "true"})
    assert 'name="cf_invoice_month"' in request_page.text
    assert 'type="date"' in request_page.text
    assert 'name="cf_device_serial"' not in request_page.text


def test_submitting_twice_with_the_same_form_id_opens_one_ticket(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    _html, token, form_id = _open_form(client)
    first = _post(client, _fields(token, form_id))
    second = _post(client, _fields(token, form_id))
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    found = _tickets(uow)
    assert len(found) == 1
    ticket = found[0]
    assert ticket.channel == "web"
    assert ticket.subject == "发票抬头需要修改"
    link = customer_link_path(settings.secret_key.get_secret_value(), ticket.id)
    assert first.headers["location"] == "/forms/done" + link.removeprefix("/t")

    confirmation = client.get(first.headers["location"])
    assert confirmation.status_code == 200
    assert format_ticket_number(ticket.id) in confirmation.text
    assert f'href="{link}"' in confirmation.text
    assert client.get(link).status_code == 200
    customer = accounts.find_customer_by_identity(uow, IdentityKind.email, "wang.fang@example.cn")
    assert customer is not None
    assert customer.name == "王芳"
    assert ticket.requester_id == customer.id


def test_phone_team_and_custom_fields_reach_the_ticket(client: TestClient, uow: UnitOfWork) -> None:
    team = make_team(uow, name="Billing")
    make_custom_field(
        uow, key="amount", field_type=FieldType.number, ticket_type=TicketType.request
    )
    uow.commit()
    html, token, form_id = _open_form(client, f"?team={team.id}&type=request")
    assert f'name="team" value="{team.id}"' in html
    response = _post(
        client,
        _fields(
            token,
            form_id,
            team=str(team.id),
            type="request",
            phone="138 0013 8000",
            cf_amount="1,250.5",
        ),
    )
    assert response.status_code == 303
    (ticket,) = _tickets(uow)
    assert ticket.team_id == team.id
    assert ticket.type == "request"
    assert ticket.custom_fields == {"amount": 1250.5}
    by_phone = accounts.find_customer_by_identity(uow, IdentityKind.phone, "+8613800138000")
    assert by_phone is not None
    assert by_phone.id == ticket.requester_id


def test_missing_required_field_shows_the_error_and_keeps_the_values(
    client: TestClient, uow: UnitOfWork
) -> None:
    make_custom_field(
        uow, key="device_serial", ticket_type=TicketType.fault, is_required=True,
        label_en="Device serial",
    )  # fmt: skip
    uow.commit()
    _html, token, form_id = _open_form(client, "?type=fault")
    response = _post(
        client, _fields(token, form_id, type="fault", subject="打印机坏了 <b>急</b>", email="x@y")
    )
    assert response.status_code == 422
    html = response.text
    assert 'id="cf_device_serial-error"' in html
    assert 'id="email-error"' in html
    # Everything entered is still there (escaped), the same form id included.
    assert 'value="打印机坏了 &lt;b&gt;急&lt;/b&gt;"' in html
    assert "请把发票抬头改为 上海某某有限公司。" in html
    assert f'name="form_id" value="{form_id}"' in html
    assert 'value="x@y"' in html
    assert _tickets(uow) == []


def test_filled_honeypot_keeps_nothing_and_thanks_the_bot(
    client: TestClient, uow: UnitOfWork
) -> None:
    _html, token, form_id = _open_form(client)
    response = _post(client, _fields(token, form_id, website="http://spam.example"))
    assert response.status_code == 303
    assert response.headers["location"] == "/forms/received"
    assert client.get("/forms/received").status_code == 200
    assert _tickets(uow) == []


def test_rate_limit_per_address(client: TestClient, uow: UnitOfWork, settings: Settings) -> None:
    limit = settings.webform_tickets_per_address
    for number in range(limit):
        _html, token, form_id = _open_form(client)
        sent = _post(client, _fields(token, form_id, subject=f"Request {number}"))
        assert sent.status_code == 303
    _html, token, form_id = _open_form(client)
    refused = _post(client, _fields(token, form_id, subject="One more"))
    assert refused.status_code == 429
    assert 'id="form-notice"' in refused.text
    assert 'value="One more"' in refused.text
    assert len(_tickets(uow)) == limit
    # Another address is not limited.
    _html, token, form_id = _open_form(client)
    other = _post(client, _fields(token, form_id, email="li.lei@example.cn"))
    assert other.status_code == 303
    assert len(_tickets(uow)) == limit + 1


def test_a_retry_of_a_taken_form_is_answered_even_at_the_limit(
    client: TestClient, uow: UnitOfWork, settings: Settings
) -> None:
    form_ids = []
    for number in range(settings.webform_tickets_per_address):
        _html, token, form_id = _open_form(client)
        form_ids.append(form_id)
        assert _post(client, _fields(token, form_id, subject=f"R{number}")).status_code == 303
    retry = _post(client, _fields(token, form_ids[-1], subject="R4"))
    assert retry.status_code == 303
    assert retry.headers["location"].startswith("/forms/done/")


def test_rate_limit_per_ip(client: TestClient, uow: UnitOfWork, settings: Settings) -> None:
    for number in range(settings.webform_tickets_per_ip):
        _html, token, form_id = _open_form(client)
        data = _fields(token, form_id, email=f"person{number}@example.cn")
        assert _post(client, data).status_code == 303
    _html, token, form_id = _open_form(client)
    assert _post(client, _fields(token, form_id, email="late@example.cn")).status_code == 429


def test_post_without_the_csrf_token_is_refused(client: TestClient, uow: UnitOfWork) -> None:
    _html, token, form_id = _open_form(client)
    data = _fields(token, form_id)
    data["csrf_token"] = "forged-token-forged-token-forged"
    response = _post(client, data)
    assert response.status_code == 403
    # A new visitor whose cookie does not match the page's token is refused too.
    client.cookies.delete(CSRF_COOKIE)
    assert _post(client, _fields(token, form_id)).status_code == 403
    assert _tickets(uow) == []


def test_attachments_are_stored_and_blocked_ones_refused(
    client: TestClient, uow: UnitOfWork
) -> None:
    _html, token, form_id = _open_form(client)
    refused = _post(
        client,
        _fields(token, form_id),
        files=[("files", ("run.exe", b"MZ\x90\x00", "application/octet-stream"))],
    )
    assert refused.status_code == 422
    assert 'id="files-error"' in refused.text
    assert _tickets(uow) == []
    response = _post(
        client,
        _fields(token, form_id),
        files=[
            ("files", ("截图.png", b"\x89PNG\r\n\x1a\n" + b"0" * 100, "image/png")),
            ("files", ("notes.txt", "发票信息".encode(), "text/plain")),
        ],
    )
    assert response.status_code == 303
    (ticket,) = _tickets(uow)
    thread = tickets.list_messages(uow, ticket_id=ticket.id, actor=SYSTEM)
    assert len(thread) == 1
    message, files = thread[0]
    assert message.kind == "customer_message"
    assert sorted(f.filename for f in files) == ["notes.txt", "截图.png"]


def test_language_switch_and_english_labels(client: TestClient, uow: UnitOfWork) -> None:
    make_custom_field(uow, key="order_no", label_en="Order number")
    uow.commit()
    english = client.get("/forms/new", headers={"Accept-Language": "en"})
    assert "Order number" in english.text
    token = form_csrf(english.text)
    switched = client.post(
        "/account/locale",
        data={"csrf_token": token, "locale": "zh_CN", "next": "/forms/new"},
        follow_redirects=False,
    )
    assert switched.status_code == 303
    assert switched.headers["location"] == "/forms/new"
    chinese = client.get("/forms/new", headers={"Accept-Language": "en"})
    assert 'lang="zh-CN"' in chinese.text
