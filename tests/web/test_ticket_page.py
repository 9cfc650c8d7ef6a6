"""The agent's ticket page: the conversation, replying, macros, inline edits with stale-version
refusal, status actions, links and merge, the requester and SLA panels, permissions, presence."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, IdentityKind, Principal
from closeloop.channels import service as channel_service
from closeloop.channels.base import InboundMessage, SenderIdentity
from closeloop.db.session import UnitOfWork
from closeloop.kit.clock import FrozenClock
from closeloop.sla import service as sla
from closeloop.tickets import service as tickets
from closeloop.tickets.custom_fields.domain import FieldType
from closeloop.tickets.domain import Channel, MessageKind, TicketType
from closeloop.tickets.macros import service as macros
from closeloop.tickets.macros.schemas import MacroActions, MacroCreate
from closeloop.tickets.schemas import MessageCreate
from closeloop.web.agent.ticket_page.quoting import show_body
from tests.builders import (
    customer_principal,
    make_agent,
    make_custom_field,
    make_customer,
    make_team,
    make_ticket,
    principal_of,
)
from tests.web.conftest import count_statements, selects

HTMX = {"HX-Request": "true"}


def sign_in(client: TestClient, uow: UnitOfWork, principal: Principal) -> str:
    """Open a cookie session for ``principal`` on ``client``; return its CSRF token."""
    cookie, csrf = accounts.start_login_session(
        uow, principal=principal, lifetime=timedelta(hours=8)
    )
    uow.commit()
    client.cookies.set("closeloop_session", cookie)
    return csrf


def make_english_agent(uow: UnitOfWork, **overrides: Any) -> Principal:
    """An agent who reads the pages in English, in UTC (agents default to zh_CN, Shanghai)."""
    agent = make_agent(uow, **overrides)
    agent.locale, agent.time_zone = "en", "UTC"
    uow.session.flush()
    return principal_of(uow, agent)


def _world(uow: UnitOfWork) -> tuple[Any, Principal, Any, Any]:
    """A team with an agent, a customer and a ticket of the team."""
    team = make_team(uow, name="Support")
    agent = make_english_agent(uow, name="Alice Agent", teams=[team])
    customer = make_customer(uow, name="Carol Customer", email="carol@example.org")
    ticket = make_ticket(uow, requester=customer, subject="Printer jam", team_id=team.id)
    uow.commit()
    return team, agent, customer, ticket


def _post(uow: UnitOfWork, ticket_id: int, actor: Principal, body: str, kind: MessageKind) -> None:
    data = MessageCreate(body=body) if actor.is_customer else MessageCreate(body=body, kind=kind)
    tickets.add_message(uow, ticket_id=ticket_id, data=data, actor=actor, via="test")
    uow.commit()


def _reload(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> Any:
    """The ticket as committed by the requests (the test's session keeps its own copies)."""
    uow.session.expire_all()
    return tickets.get_ticket(uow, ticket_id=ticket_id, actor=actor)


def _messages(uow: UnitOfWork, *, ticket_id: int, actor: Principal) -> Any:
    uow.session.expire_all()
    return tickets.list_messages(uow, ticket_id=ticket_id, actor=actor)


def _articles(html: str) -> list[str]:
    return re.findall(r'<article id="message-\d+"\s+class="([^"]+)"', html)


def _version(html: str) -> int:
    found = re.search(r'id="ticket-version" name="version" value="(\d+)"', html)
    assert found is not None
    return int(found.group(1))


# --- the conversation ------------------------------------------------------------------------


def test_each_kind_of_message_looks_different(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, customer, ticket = _world(uow)
    _post(
        uow, ticket.id, customer_principal(customer), "It jams again", MessageKind.customer_message
    )
    _post(uow, ticket.id, agent, "Try tray 2", MessageKind.public_reply)
    _post(uow, ticket.id, agent, "Known firmware bug", MessageKind.internal_note)
    sign_in(client, uow, agent)

    response = client.get(f"/agent/tickets/{ticket.id}")

    assert response.status_code == 200
    html = response.text
    assert f"TK-{ticket.id:06d}" in html
    classes = _articles(html)
    assert [c.split()[1:] for c in classes] == [
        ["message-customer-message", "message-customer"],
        ["message-public-reply", "message-agent"],
        ["message-internal-note", "message-agent"],
    ]
    note = html[html.index("message-internal-note") :]
    assert 'class="message-label label-internal">Internal<' in note
    assert "Carol Customer" in html
    assert "Alice Agent" in html
    assert f'data-live-topics="ticket:{ticket.id}"' in html


def test_quoted_history_is_folded(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, customer, ticket = _world(uow)
    body = "Still broken.\n\nOn Mon, Nov 24, 2026 Alice wrote:\n> Try tray 2\n> Regards"
    _post(uow, ticket.id, customer_principal(customer), body, MessageKind.customer_message)
    sign_in(client, uow, agent)

    html = client.get(f"/agent/tickets/{ticket.id}").text

    folded = html[html.index('<details class="message-quoted">') :]
    assert "Still broken." not in folded.split("</details>")[0]
    assert "&gt; Try tray 2" in folded.split("</details>")[0]


def test_replying_needs_the_csrf_token(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, _customer, ticket = _world(uow)
    sign_in(client, uow, agent)

    response = client.post(f"/agent/tickets/{ticket.id}/messages", data={"body": "Hello"})

    assert response.status_code == 403
    assert _messages(uow, ticket_id=ticket.id, actor=agent) == []


def test_a_reply_with_an_attachment_refreshes_the_thread(
    client: TestClient, uow: UnitOfWork
) -> None:
    _team, agent, _customer, ticket = _world(uow)
    csrf = sign_in(client, uow, agent)

    response = client.post(
        f"/agent/tickets/{ticket.id}/messages",
        data={"csrf_token": csrf, "body": "See <script>alert(1)</script>\nline two"},
        files=[("files", ("log.txt", b"printer log", "text/plain"))],
        headers=HTMX,
    )

    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "live-fields"
    html = response.text
    assert "<script>alert(1)</script>" not in html
    assert "See &lt;script&gt;alert(1)&lt;/script&gt;<br>" in html
    assert 'id="reply-form"' in html
    assert 'hx-swap-oob="true"' in html
    [(message, attachments)] = _messages(uow, ticket_id=ticket.id, actor=agent)
    assert (message.kind, message.author_agent_id) == ("public_reply", agent.id)
    assert [a.filename for a in attachments] == ["log.txt"]
    link = f'href="/api/v1/attachments/{attachments[0].id}/content"'
    assert link in html
    # The API's download answers the cookie session.
    download = client.get(f"/api/v1/attachments/{attachments[0].id}/content")
    assert (download.status_code, download.content) == (200, b"printer log")


def test_a_note_stays_internal(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, customer, ticket = _world(uow)
    csrf = sign_in(client, uow, agent)

    response = client.post(
        f"/agent/tickets/{ticket.id}/messages",
        data={"csrf_token": csrf, "body": "Ask the vendor", "kind": "internal_note"},
        headers=HTMX,
    )

    assert response.status_code == 200
    assert "message-internal-note" in response.text
    seen_by_customer = tickets.list_messages(
        uow, ticket_id=ticket.id, actor=customer_principal(customer)
    )
    assert seen_by_customer == []
    assert _reload(uow, ticket_id=ticket.id, actor=agent).status == "new"


def test_an_empty_reply_is_refused_with_the_draft_kept(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, _customer, ticket = _world(uow)
    csrf = sign_in(client, uow, agent)

    response = client.post(
        f"/agent/tickets/{ticket.id}/messages",
        data={"csrf_token": csrf, "body": "   "},
        headers=HTMX,
    )

    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#reply-form"
    assert "Write a message or attach a file first." in response.text


# --- macros ----------------------------------------------------------------------------------


def test_inserting_a_macro_fills_the_reply_and_sending_applies_its_actions(
    client: TestClient, uow: UnitOfWork
) -> None:
    _team, agent, _customer, ticket = _world(uow)
    macro = macros.create_macro(
        uow,
        data=MacroCreate(
            title="Vendor",
            body="Hello {customer_name}, {ticket_number} is with the vendor. {agent_name}",
            actions=MacroActions(
                status="pending", pending_reason="third_party", add_tags=["vendor"]
            ),
        ),
        actor=agent,
        via="test",
    )
    csrf = sign_in(client, uow, agent)
    page = client.get(f"/agent/tickets/{ticket.id}").text
    assert f'<option value="{macro.id}">Vendor</option>' in page

    inserted = client.get(
        f"/agent/tickets/{ticket.id}/macros/insert",
        params={"macro_choice": macro.id},
        headers=HTMX,
    )

    assert inserted.status_code == 200
    number = f"TK-{ticket.id:06d}"
    text = f"Hello Carol Customer, {number} is with the vendor. Alice Agent"
    assert f">{text}</textarea>" in inserted.text
    assert f'name="macro_id" value="{macro.id}"' in inserted.text
    sent = client.post(
        f"/agent/tickets/{ticket.id}/messages",
        data={
            "csrf_token": csrf,
            "body": text,
            "macro_id": str(macro.id),
            "version": str(_version(page)),
        },
        headers=HTMX,
    )
    assert sent.status_code == 200
    changed = _reload(uow, ticket_id=ticket.id, actor=agent)
    assert (changed.status, changed.pending_reason, changed.tags) == (
        "pending",
        "third_party",
        ["vendor"],
    )
    [(message, _files)] = _messages(uow, ticket_id=ticket.id, actor=agent)
    assert message.body_text == text


def test_a_field_only_macro_applies_at_once(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, _customer, ticket = _world(uow)
    macro = macros.create_macro(
        uow,
        data=MacroCreate(title="Escalate", actions=MacroActions(priority="P1", type="fault")),
        actor=agent,
        via="test",
    )
    csrf = sign_in(client, uow, agent)

    response = client.post(
        f"/agent/tickets/{ticket.id}/macros/apply",
        data={"csrf_token": csrf, "macro_choice": str(macro.id), "version": str(ticket.version)},
        headers=HTMX,
    )

    assert response.status_code == 200
    changed = _reload(uow, ticket_id=ticket.id, actor=agent)
    assert (changed.priority, changed.type) == ("P1", "fault")
    assert _messages(uow, ticket_id=ticket.id, actor=agent) == []


def test_agents_manage_their_canned_responses(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, _customer, _ticket = _world(uow)
    csrf = sign_in(client, uow, agent)

    created = client.post(
        "/agent/canned-responses",
        data={
            "csrf_token": csrf,
            "title": "Thanks",
            "body": "Thank you, {customer_name}.",
            "priority": "P4",
            "add_tags": "thanks",
        },
        follow_redirects=False,
    )

    assert created.status_code == 303
    [macro] = macros.list_macros(uow, actor=agent)
    assert (macro.scope, macro.owner_agent_id, macro.actions) == (
        "personal",
        agent.id,
        {"priority": "P4", "add_tags": ["thanks"]},
    )
    listing = client.get("/agent/canned-responses")
    assert listing.status_code == 200
    assert "Thanks" in listing.text
    deleted = client.post(
        f"/agent/canned-responses/{macro.id}/delete",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert deleted.status_code == 303
    assert macros.list_macros(uow, actor=agent) == []


# --- fields and status -----------------------------------------------------------------------


def test_an_inline_edit_saves_with_the_version(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, _customer, ticket = _world(uow)
    csrf = sign_in(client, uow, agent)
    version = _version(client.get(f"/agent/tickets/{ticket.id}").text)

    response = client.post(
        f"/agent/tickets/{ticket.id}/fields",
        data={"csrf_token": csrf, "version": str(version), "priority": "P1", "tags": "vpn, VPN"},
        headers=HTMX,
    )

    assert response.status_code == 200
    changed = _reload(uow, ticket_id=ticket.id, actor=agent)
    assert (changed.priority, changed.tags) == ("P1", ["vpn"])
    assert _version(response.text) == changed.version


def test_custom_fields_of_the_type_are_edited_inline(client: TestClient, uow: UnitOfWork) -> None:
    make_custom_field(uow, key="asset_tag", field_type=FieldType.text)
    make_custom_field(uow, key="floor", field_type=FieldType.number, ticket_type=TicketType.fault)
    make_custom_field(uow, key="site", field_type=FieldType.select, options=["Beijing", "Shanghai"])
    _team, agent, _customer, ticket = _world(uow)
    csrf = sign_in(client, uow, agent)
    html = client.get(f"/agent/tickets/{ticket.id}").text
    assert 'name="cf.asset_tag"' in html
    assert 'name="cf.floor"' not in html  # a field of faults only

    response = client.post(
        f"/agent/tickets/{ticket.id}/fields",
        data={
            "csrf_token": csrf,
            "version": str(_version(html)),
            "cf.asset_tag": " PC-0042 ",
            "cf.site": "Shanghai",
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    changed = _reload(uow, ticket_id=ticket.id, actor=agent)
    assert changed.custom_fields == {"asset_tag": "PC-0042", "site": "Shanghai"}
    assert '<option value="Shanghai" selected>Shanghai</option>' in response.text


def test_a_stale_edit_is_refused_and_names_who_changed_the_ticket(
    app: FastAPI, client: TestClient, uow: UnitOfWork
) -> None:
    team, alice, _customer, ticket = _world(uow)
    bob = make_english_agent(uow, name="Bob Builder", teams=[team])
    csrf = sign_in(client, uow, alice)
    version = _version(client.get(f"/agent/tickets/{ticket.id}").text)
    with TestClient(app) as other:
        bob_csrf = sign_in(other, uow, bob)
        bob_version = _version(other.get(f"/agent/tickets/{ticket.id}").text)
        saved = other.post(
            f"/agent/tickets/{ticket.id}/fields",
            data={"csrf_token": bob_csrf, "version": str(bob_version), "priority": "P2"},
            headers=HTMX,
        )
        assert saved.status_code == 200

    response = client.post(
        f"/agent/tickets/{ticket.id}/fields",
        data={"csrf_token": csrf, "version": str(version), "priority": "P4"},
        headers=HTMX,
    )

    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#fields"
    assert (
        "This ticket was changed by Bob Builder at 25 Nov 2026, 02:00 — reload to see their "
        "change." in response.text
    )
    assert _reload(uow, ticket_id=ticket.id, actor=alice).priority == "P2"


def test_only_legal_status_changes_are_offered(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, _customer, ticket = _world(uow)
    csrf = sign_in(client, uow, agent)

    html = client.get(f"/agent/tickets/{ticket.id}").text
    assert re.findall(r'data-status="([a-z_]+)"', html) == [
        "open",
        "in_progress",
        "pending",
        "resolved",
    ]
    resolved = client.post(
        f"/agent/tickets/{ticket.id}/status",
        data={"csrf_token": csrf, "status": "resolved", "version": str(_version(html))},
        headers=HTMX,
    )
    assert resolved.status_code == 200
    assert re.findall(r'data-status="([a-z_]+)"', resolved.text) == ["open", "closed"]
    assert _reload(uow, ticket_id=ticket.id, actor=agent).status == "resolved"


def test_a_plain_form_post_goes_back_to_the_page(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, _customer, ticket = _world(uow)
    csrf = sign_in(client, uow, agent)

    response = client.post(
        f"/agent/tickets/{ticket.id}/status",
        data={"csrf_token": csrf, "status": "open", "version": str(ticket.version)},
        follow_redirects=False,
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/agent/tickets/{ticket.id}"
    assert _reload(uow, ticket_id=ticket.id, actor=agent).status == "open"


def test_pending_takes_a_reason(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, _customer, ticket = _world(uow)
    csrf = sign_in(client, uow, agent)

    response = client.post(
        f"/agent/tickets/{ticket.id}/status",
        data={
            "csrf_token": csrf,
            "status": "pending",
            "pending_reason": "third_party",
            "version": str(ticket.version),
        },
        headers=HTMX,
    )

    assert response.status_code == 200
    changed = _reload(uow, ticket_id=ticket.id, actor=agent)
    assert (changed.status, changed.pending_reason) == ("pending", "third_party")
    assert "waiting for a third party" in response.text


def test_assign_to_me(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, _customer, ticket = _world(uow)
    csrf = sign_in(client, uow, agent)
    html = client.get(f"/agent/tickets/{ticket.id}").text
    assert 'data-shortcut="assign-me"' in html

    response = client.post(
        f"/agent/tickets/{ticket.id}/assign-me",
        data={"csrf_token": csrf, "version": str(_version(html))},
        headers=HTMX,
    )

    assert response.status_code == 200
    changed = _reload(uow, ticket_id=ticket.id, actor=agent)
    assert (changed.assignee_id, changed.status) == (agent.id, "open")
    assert 'data-shortcut="assign-me"' not in response.text


def test_linking_and_merging_by_number(client: TestClient, uow: UnitOfWork) -> None:
    team, agent, customer, ticket = _world(uow)
    other = make_ticket(uow, requester=customer, subject="Same jam", team_id=team.id)
    uow.commit()
    csrf = sign_in(client, uow, agent)
    number = f"TK-{other.id:06d}"

    linked = client.post(
        f"/agent/tickets/{ticket.id}/links",
        data={"csrf_token": csrf, "kind": "related", "number": number},
        headers=HTMX,
    )
    assert linked.status_code == 200
    assert f'<a href="/agent/tickets/{other.id}">{number}</a>' in linked.text
    [link] = tickets.list_links(uow, ticket_id=ticket.id, actor=agent)
    removed = client.post(
        f"/agent/tickets/{ticket.id}/links/{link.id}/delete",
        data={"csrf_token": csrf},
        headers=HTMX,
    )
    assert removed.status_code == 200
    assert tickets.list_links(uow, ticket_id=ticket.id, actor=agent) == []

    unconfirmed = client.post(
        f"/agent/tickets/{ticket.id}/merge",
        data={"csrf_token": csrf, "number": number, "version": "1"},
        headers=HTMX,
    )
    assert unconfirmed.status_code == 422
    version = _reload(uow, ticket_id=ticket.id, actor=agent).version
    merged = client.post(
        f"/agent/tickets/{ticket.id}/merge",
        data={"csrf_token": csrf, "number": number, "confirm": "yes", "version": str(version)},
        headers=HTMX,
    )
    assert merged.status_code == 204
    assert merged.headers["HX-Redirect"] == f"/agent/tickets/{other.id}"
    source = _reload(uow, ticket_id=ticket.id, actor=agent)
    assert (source.merged_into_id, source.status) == (other.id, "closed")


def test_following_and_unfollowing(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, _customer, ticket = _world(uow)
    csrf = sign_in(client, uow, agent)

    followed = client.post(
        f"/agent/tickets/{ticket.id}/followers", data={"csrf_token": csrf}, headers=HTMX
    )

    assert followed.status_code == 200
    [follower] = tickets.list_followers(uow, ticket_id=ticket.id, actor=agent)
    assert follower.agent_id == agent.id
    client.post(
        f"/agent/tickets/{ticket.id}/followers/{follower.id}/delete",
        data={"csrf_token": csrf},
        headers=HTMX,
    )
    assert tickets.list_followers(uow, ticket_id=ticket.id, actor=agent) == []


def test_the_original_of_a_message_without_one_is_not_found(
    client: TestClient, uow: UnitOfWork
) -> None:
    _team, agent, customer, ticket = _world(uow)
    _post(uow, ticket.id, customer_principal(customer), "Hello", MessageKind.customer_message)
    [(message, _files)] = _messages(uow, ticket_id=ticket.id, actor=agent)
    sign_in(client, uow, agent)

    response = client.get(f"/agent/tickets/{ticket.id}/messages/{message.id}/original")

    assert response.status_code == 404


def test_agents_download_the_original_email_of_a_message(
    client: TestClient, uow: UnitOfWork, clock: FrozenClock
) -> None:
    team, agent, _customer, _ticket = _world(uow)
    raw = (
        b"From: Dora <dora@example.org>\r\nTo: help@example.com\r\nSubject: Broken screen\r\n"
        b"Message-ID: <m1@example.org>\r\n\r\nMy screen is broken.\r\n"
    )
    result = channel_service.ingest(
        uow,
        InboundMessage(
            channel=Channel.email,
            external_id="<m1@example.org>",
            sender=SenderIdentity(kind=IdentityKind.email, value="dora@example.org", name="Dora"),
            subject="Broken screen",
            body_text="My screen is broken.",
            received_at=clock.now(),
            raw=raw,
            team_id=team.id,
        ),
        via="test",
    )
    uow.commit()
    assert result.ticket_id is not None
    assert result.message_id is not None
    sign_in(client, uow, agent)
    page = client.get(f"/agent/tickets/{result.ticket_id}").text
    url = f"/agent/tickets/{result.ticket_id}/messages/{result.message_id}/original"
    assert f'href="{url}"' in page

    response = client.get(url)

    assert response.status_code == 200
    assert response.content == raw
    assert response.headers["content-type"] == "message/rfc822"
    # Through another ticket's address the message does not exist.
    other = client.get(f"/agent/tickets/{_ticket.id}/messages/{result.message_id}/original")
    assert other.status_code == 404


# --- side panels -----------------------------------------------------------------------------


def test_the_requester_panel_lists_their_other_tickets(
    client: TestClient, uow: UnitOfWork, clock: FrozenClock
) -> None:
    team, agent, customer, ticket = _world(uow)
    others = []
    for index in range(7):
        clock.advance(timedelta(minutes=1))
        others.append(
            make_ticket(uow, requester=customer, subject=f"Earlier {index}", team_id=team.id)
        )
    uow.commit()
    sign_in(client, uow, agent)

    html = client.get(f"/agent/tickets/{ticket.id}").text

    panel = html[html.index('id="requester"') :]
    panel = panel[: panel.index("</section>")]
    shown = re.findall(r'<a href="/agent/tickets/(\d+)">', panel)
    assert shown == [str(t.id) for t in reversed(others)][:5]
    assert "carol@example.org" in panel
    assert "Carol Customer" in panel


def test_a_vip_requester_is_marked(client: TestClient, uow: UnitOfWork) -> None:
    team = make_team(uow)
    agent = make_english_agent(uow, teams=[team])
    vip = make_customer(uow, tier="vip")
    ticket = make_ticket(uow, requester=vip, team_id=team.id)
    uow.commit()
    sign_in(client, uow, agent)

    html = client.get(f"/agent/tickets/{ticket.id}").text

    assert '<span class="badge badge-vip">VIP</span>' in html


def test_sla_clocks_and_the_timeline_are_shown(
    client: TestClient, uow: UnitOfWork, clock: FrozenClock
) -> None:
    sla.seed_default_sla(uow, actor=SYSTEM)
    uow.commit()
    team, agent, customer, _ticket = _world(uow)
    ticket = make_ticket(uow, requester=customer, priority="P1", team_id=team.id)
    uow.commit()
    clock.advance(timedelta(minutes=12))
    sign_in(client, uow, agent)

    html = client.get(f"/agent/tickets/{ticket.id}").text

    clocks = re.findall(
        r'<li class="sla-clock sla-(\w+)" data-state="\w+">\s*'
        r'<span class="sla-target">([^<]+)</span>',
        html,
    )
    assert clocks == [("warning", "First response"), ("running", "Resolution")]
    assert "3 min left" in html
    assert '<details class="panel timeline-panel" id="timeline">' in html
    assert 'data-action="ticket.created"' in html


# --- permissions and safety ------------------------------------------------------------------


def test_a_ticket_the_agent_may_not_see_is_not_found(client: TestClient, uow: UnitOfWork) -> None:
    _team, agent, customer, _ticket = _world(uow)
    elsewhere = make_team(uow)
    hidden = make_ticket(uow, requester=customer, team_id=elsewhere.id, subject="Secret")
    uow.commit()
    csrf = sign_in(client, uow, agent)

    page = client.get(f"/agent/tickets/{hidden.id}")
    posted = client.post(
        f"/agent/tickets/{hidden.id}/messages",
        data={"csrf_token": csrf, "body": "hi"},
    )

    assert page.status_code == 404
    assert "Secret" not in page.text
    assert posted.status_code == 404
    assert client.get(f"/agent/tickets/{hidden.id}/thread").status_code == 404


def test_customers_get_not_found(client: TestClient, uow: UnitOfWork) -> None:
    _team, _agent, customer, ticket = _world(uow)
    sign_in(client, uow, customer_principal(customer))

    response = client.get(f"/agent/tickets/{ticket.id}")

    assert response.status_code == 404
    assert "Printer jam" not in response.text


def test_anonymous_visitors_are_sent_to_sign_in(client: TestClient, uow: UnitOfWork) -> None:
    _team, _agent, _customer, ticket = _world(uow)

    response = client.get(f"/agent/tickets/{ticket.id}", follow_redirects=False)

    assert response.status_code == 303
    assert response.headers["location"] == f"/login?next=%2Fagent%2Ftickets%2F{ticket.id}"


def test_subject_and_bodies_are_escaped(client: TestClient, uow: UnitOfWork) -> None:
    team = make_team(uow)
    agent = make_english_agent(uow, teams=[team])
    customer = make_customer(uow, name='<img src=x onerror="alert(1)">')
    ticket = make_ticket(
        uow,
        requester=customer,
        team_id=team.id,
        subject="<script>alert('subject')</script>",
        description="<b>bold</b>",
    )
    uow.commit()
    tickets.add_message(
        uow,
        ticket_id=ticket.id,
        data=MessageCreate(
            body_html='<p>hi<script>alert("x")</script><a href="javascript:x">l</a></p>'
        ),
        actor=customer_principal(customer),
        via="test",
    )
    uow.commit()
    sign_in(client, uow, agent)

    html = client.get(f"/agent/tickets/{ticket.id}").text

    assert "<script>alert(" not in html
    assert "&lt;script&gt;alert(&#39;subject&#39;)&lt;/script&gt;" in html
    assert '<img src=x onerror="alert(1)">' not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "javascript:" not in html


def _page_selects(client: TestClient, engine: Engine, ticket_id: int) -> list[str]:
    with count_statements(engine) as statements:
        response = client.get(f"/agent/tickets/{ticket_id}")
    assert response.status_code == 200
    return selects(statements)


def test_the_page_is_a_fixed_number_of_statements(
    client: TestClient, uow: UnitOfWork, engine: Engine
) -> None:
    team, agent, customer, ticket = _world(uow)
    colleague = make_english_agent(uow, name="Colleague", teams=[team])
    customer_side = customer_principal(customer)
    _post(uow, ticket.id, customer_side, "First question", MessageKind.customer_message)
    _post(uow, ticket.id, agent, "First answer", MessageKind.public_reply)
    sign_in(client, uow, agent)
    client.get(f"/agent/tickets/{ticket.id}")  # the session's last-seen stamp happens once
    with_one = _page_selects(client, engine, ticket.id)
    for index in range(10):
        _post(uow, ticket.id, customer_side, f"Question {index}", MessageKind.customer_message)
        _post(uow, ticket.id, agent, f"Answer {index}", MessageKind.public_reply)
        _post(uow, ticket.id, colleague, f"Note {index}", MessageKind.internal_note)

    page_selects = _page_selects(client, engine, ticket.id)

    assert len(_articles(client.get(f"/agent/tickets/{ticket.id}").text)) == 32
    # Session and agent (3); the ticket, the thread's visibility check, messages and
    # attachments (4); teams, the team's members, followers and links with their visibility
    # checks, custom fields (7); every agent and every customer named, one query each (2);
    # identities and other tickets (2); SLA clocks with their check, the rulebook's version
    # and the status history (5); timeline with its check (2); macros (1); the side
    # navigation (2, web-lists' saved views and counts). Authors and attachments are batched:
    # 32 messages cost what two do.
    assert len(page_selects) == len(with_one)
    assert len(page_selects) == 28, "\n".join(s[:120].replace("\n", " ") for s in page_selects)


# --- presence ----------------------------------------------------------------------------------


def test_two_agents_see_each_other(app: FastAPI, client: TestClient, uow: UnitOfWork) -> None:
    team, alice, _customer, ticket = _world(uow)
    bob = make_english_agent(uow, name="Bob Builder", teams=[team])
    sign_in(client, uow, alice)
    first = client.get(f"/agent/tickets/{ticket.id}").text
    assert "Also viewing" not in first

    with TestClient(app) as other:
        sign_in(other, uow, bob)
        bob_page = other.get(f"/agent/tickets/{ticket.id}").text
    poll = client.get(f"/agent/tickets/{ticket.id}/presence", headers=HTMX)

    assert "Also viewing: Alice Agent" in bob_page
    assert poll.status_code == 200
    assert "Also viewing: Bob Builder" in poll.text
    assert 'hx-trigger="every 20s' in first


# --- how bodies are shown (pure) ---------------------------------------------------------------


def test_inline_images_point_at_their_attachments() -> None:
    html = '<p><img src="cid:logo@x" alt="l"><img src=\'cid:other\'></p>'

    shown = show_body("", html, {"logo@x": 7})

    assert str(shown.main) == (
        '<p><img src="/api/v1/attachments/7/content" alt="l"><img src=\'cid:other\'></p>'
    )
    assert shown.folded is None


def test_text_keeps_its_lines_and_folds_the_signature() -> None:
    shown = show_body("Hi <you>\nsecond line\n-- \nAlice\nSupport", None)

    assert str(shown.main) == "Hi &lt;you&gt;<br>\nsecond line"
    assert shown.folded is not None
    assert "Alice" in str(shown.folded)
