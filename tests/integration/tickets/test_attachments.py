"""Uploading attachments into the content-addressed store and reading them back."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select
from tests.builders import (
    customer_principal,
    make_agent,
    make_customer,
    make_team,
    make_ticket,
    principal_of,
)

from closeloop.accounts.domain import SYSTEM, Principal
from closeloop.audit.models import AuditEvent
from closeloop.db.session import UnitOfWork
from closeloop.tickets import service as tickets
from closeloop.tickets.attachment_store import CHUNK_SIZE, AttachmentStore
from closeloop.tickets.domain import MessageKind, TicketStatus
from closeloop.tickets.errors import (
    AttachmentNotFound,
    AttachmentRejected,
    AttachmentTooLarge,
    TicketClosed,
    TicketMerged,
    TicketNotFound,
)
from closeloop.tickets.models import Attachment, Ticket
from closeloop.tickets.schemas import MessageCreate
from closeloop.tickets.service.attachments import (
    resolve_content_type,
    sanitise_filename,
)

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
BLOCKED = (".exe", ".bat", ".js")
LIMIT = 1024


@pytest.fixture
def store(tmp_path: Path) -> AttachmentStore:
    return AttachmentStore(tmp_path / "attachments")


def _upload(
    uow: UnitOfWork,
    store: AttachmentStore,
    ticket: Ticket,
    actor: Principal,
    data: bytes | io.BytesIO = b"hello world",
    *,
    filename: str = "notes.txt",
    content_type: str | None = "text/plain",
    max_bytes: int = LIMIT,
) -> Attachment:
    stream = data if isinstance(data, io.BytesIO) else io.BytesIO(data)
    return tickets.upload_attachment(
        uow,
        ticket_id=ticket.id,
        filename=filename,
        content_type=content_type,
        stream=stream,
        store=store,
        max_bytes=max_bytes,
        blocked_extensions=BLOCKED,
        actor=actor,
        via="test",
    )


def _files(store: AttachmentStore) -> list[Path]:
    if not store.root.exists():
        return []
    return sorted(p for p in store.root.rglob("*") if p.is_file())


def _attachment_count(uow: UnitOfWork) -> int:
    return int(uow.session.scalar(select(func.count()).select_from(Attachment)) or 0)


def _audit_actions(uow: UnitOfWork, ticket: Ticket) -> list[str]:
    """The actions recorded on the ticket, in order (one per action, not per changed field)."""
    rows = uow.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.entity_type == "ticket", AuditEvent.entity_id == ticket.id)
        .order_by(AuditEvent.sequence)
    )
    return list(dict.fromkeys(rows))


def test_upload_stores_the_bytes_under_their_digest(
    uow: UnitOfWork, store: AttachmentStore
) -> None:
    team = make_team(uow)
    agent = principal_of(uow, make_agent(uow, teams=[team]))
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=team.id)

    attachment = _upload(uow, store, ticket, agent, b"hello world")

    digest = hashlib.sha256(b"hello world").hexdigest()
    assert (attachment.ticket_id, attachment.message_id) == (ticket.id, None)
    assert (attachment.filename, attachment.content_type) == ("notes.txt", "text/plain")
    assert (attachment.size, attachment.sha256) == (11, digest)
    assert attachment.uploaded_by_agent_id == agent.id
    assert attachment.uploaded_by_customer_id is None
    assert _files(store) == [store.root / digest[:2] / digest[2:4] / digest]
    assert _files(store)[0].read_bytes() == b"hello world"
    assert _audit_actions(uow, ticket) == ["ticket.created", "attachment.uploaded"]


def test_identical_bytes_are_stored_once(uow: UnitOfWork, store: AttachmentStore) -> None:
    requester = make_customer(uow)
    ticket = make_ticket(uow, requester=requester)
    first = _upload(uow, store, ticket, customer_principal(requester), filename="a.txt")
    second = _upload(uow, store, ticket, SYSTEM, filename="b.txt")

    assert first.id != second.id
    assert first.sha256 == second.sha256
    assert len(_files(store)) == 1


def test_upload_over_the_limit_keeps_nothing_and_stops_reading(
    uow: UnitOfWork, store: AttachmentStore
) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow))
    stream = io.BytesIO(b"x" * (10 * CHUNK_SIZE))

    with pytest.raises(AttachmentTooLarge) as refused:
        _upload(uow, store, ticket, SYSTEM, stream, max_bytes=CHUNK_SIZE + 1)

    assert refused.value.code == "attachment.too_large"
    assert refused.value.params == {"filename": "notes.txt", "limit": CHUNK_SIZE + 1}
    assert stream.tell() == 2 * CHUNK_SIZE
    assert _files(store) == []
    assert _attachment_count(uow) == 0
    assert _audit_actions(uow, ticket) == ["ticket.created"]


def test_upload_of_exactly_the_limit_is_kept(uow: UnitOfWork, store: AttachmentStore) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow))

    attachment = _upload(uow, store, ticket, SYSTEM, b"y" * LIMIT)

    assert attachment.size == LIMIT


@pytest.mark.parametrize(
    "filename",
    ["setup.exe", "SETUP.EXE", "run.bat.", "payload.js ", "invoice\u202efdp.exe"],
    ids=["plain_case", "upper_case", "trailing_dot", "trailing_space", "bidi_override_case"],
)
def test_blocked_extension_is_refused_before_reading(
    uow: UnitOfWork, store: AttachmentStore, filename: str
) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow))
    stream = io.BytesIO(b"MZ program")

    with pytest.raises(AttachmentRejected) as refused:
        _upload(uow, store, ticket, SYSTEM, stream, filename=filename)

    assert refused.value.code == "attachment.rejected"
    assert refused.value.http_status == 422
    assert stream.tell() == 0
    assert _files(store) == []
    assert _attachment_count(uow) == 0


def test_program_declared_as_an_image_is_refused(uow: UnitOfWork, store: AttachmentStore) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow))

    with pytest.raises(AttachmentRejected) as refused:
        _upload(
            uow,
            store,
            ticket,
            SYSTEM,
            b"MZ\x90\x00" + b"\x00" * 64,
            filename="photo.png",
            content_type="image/png",
        )

    assert refused.value.params["filename"] == "photo.png"
    assert str(refused.value) == "The file photo.png was refused: it is a program, not an image."
    assert _files(store) == []
    assert _attachment_count(uow) == 0


def test_empty_file_is_refused(uow: UnitOfWork, store: AttachmentStore) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow))

    with pytest.raises(AttachmentRejected):
        _upload(uow, store, ticket, SYSTEM, b"")

    assert _files(store) == []


def test_stored_type_follows_the_bytes_of_images(uow: UnitOfWork, store: AttachmentStore) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow))

    attachment = _upload(
        uow, store, ticket, SYSTEM, PNG, filename="scan", content_type="application/octet-stream"
    )

    assert attachment.content_type == "image/png"


@pytest.mark.parametrize(
    ("declared", "head", "expected"),
    [
        ("image/png", b"\xff\xd8\xff\xe0", "image/jpeg"),
        ("text/plain", b"%PDF-1.7", "application/pdf"),
        ("image/gif", b"GIF89a", "image/gif"),
        ("application/octet-stream", b"PK\x03\x04", "application/zip"),
        (
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            b"PK\x03\x04",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("text/plain", b"MZ\x90\x00", "application/octet-stream"),
        ("text/csv", b"a,b\n1,2", "text/csv"),
    ],
    ids=["jpeg_case", "pdf_case", "gif_case", "zip_case", "docx_case", "program_case", "csv_case"],
)
def test_content_type_resolution(declared: str, head: bytes, expected: str) -> None:
    assert resolve_content_type(declared, head) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\li\\报告.pdf", "报告.pdf"),
        ("a\x00b\r\n.txt", "ab.txt"),
        ('a<b>:c?"d|e*.txt', "a_b__c__d_e_.txt"),
        ("  .hidden. ", "hidden"),
        ("", "attachment"),
        (None, "attachment"),
        ("/", "attachment"),
    ],
    ids=[
        "path_case",
        "windows_path_case",
        "control_case",
        "reserved_case",
        "dots_case",
        "empty_case",
        "none_case",
        "slash_case",
    ],
)
def test_filename_is_sanitised(raw: str | None, expected: str) -> None:
    assert sanitise_filename(raw) == expected


def test_long_filename_keeps_its_extension() -> None:
    name = sanitise_filename("报" * 300 + ".pdf")

    assert len(name) == 255
    assert name == "报" * 251 + ".pdf"


def test_upload_to_a_closed_or_merged_ticket_is_refused(
    uow: UnitOfWork, store: AttachmentStore
) -> None:
    requester = make_customer(uow)
    closed = make_ticket(uow, requester=requester)
    closed.status = TicketStatus.closed.value
    survivor = make_ticket(uow, requester=requester)
    merged = make_ticket(uow, requester=requester)
    tickets.merge_tickets(
        uow,
        source_ticket_id=merged.id,
        into_ticket_id=survivor.id,
        expected_version=merged.version,
        actor=SYSTEM,
        via="test",
    )

    with pytest.raises(TicketClosed):
        _upload(uow, store, closed, customer_principal(requester))
    with pytest.raises(TicketMerged):
        _upload(uow, store, merged, customer_principal(requester))
    assert _files(store) == []


def test_upload_to_an_invisible_ticket_is_not_found(
    uow: UnitOfWork, store: AttachmentStore
) -> None:
    stranger = customer_principal(make_customer(uow))
    ticket = make_ticket(uow, requester=make_customer(uow))

    with pytest.raises(TicketNotFound):
        _upload(uow, store, ticket, stranger)

    assert _files(store) == []


def test_customer_never_reads_an_attachment_of_an_internal_note(
    uow: UnitOfWork, store: AttachmentStore
) -> None:
    team = make_team(uow)
    agent = principal_of(uow, make_agent(uow, teams=[team]))
    requester = make_customer(uow)
    customer = customer_principal(requester)
    ticket = make_ticket(uow, requester=requester, team_id=team.id)
    on_note = _upload(uow, store, ticket, agent, b"internal logs", filename="logs.txt")
    on_reply = _upload(uow, store, ticket, agent, b"how to fix", filename="fix.txt")
    pending = _upload(uow, store, ticket, agent, b"draft", filename="draft.txt")
    own = _upload(uow, store, ticket, customer, b"screenshot", filename="mine.txt")
    for kind, attachment in (
        (MessageKind.internal_note, on_note),
        (MessageKind.public_reply, on_reply),
    ):
        tickets.add_message(
            uow,
            ticket_id=ticket.id,
            data=MessageCreate(kind=kind, body="see file", attachment_ids=[attachment.id]),
            actor=agent,
            via="test",
        )

    for hidden in (on_note, pending):
        with pytest.raises(AttachmentNotFound):
            tickets.get_attachment(uow, attachment_id=hidden.id, actor=customer)
    assert tickets.get_attachment(uow, attachment_id=on_reply.id, actor=customer) is on_reply
    assert tickets.get_attachment(uow, attachment_id=own.id, actor=customer) is own
    for visible in (on_note, on_reply, pending, own):
        assert tickets.get_attachment(uow, attachment_id=visible.id, actor=agent) is visible


def test_attachment_of_a_ticket_the_agent_cannot_read_is_not_found(
    uow: UnitOfWork, store: AttachmentStore
) -> None:
    team, other_team = make_team(uow), make_team(uow)
    outsider = principal_of(uow, make_agent(uow, teams=[other_team]))
    ticket = make_ticket(uow, requester=make_customer(uow), team_id=team.id)
    attachment = _upload(uow, store, ticket, SYSTEM)

    with pytest.raises(AttachmentNotFound):
        tickets.open_attachment(uow, attachment_id=attachment.id, actor=outsider, store=store)
    with pytest.raises(AttachmentNotFound):
        tickets.get_attachment(uow, attachment_id=attachment.id + 1000, actor=SYSTEM)


def test_open_attachment_reads_the_stored_bytes(uow: UnitOfWork, store: AttachmentStore) -> None:
    ticket = make_ticket(uow, requester=make_customer(uow))
    attachment = _upload(uow, store, ticket, SYSTEM, PNG, filename="scan.png")

    found, content = tickets.open_attachment(
        uow, attachment_id=attachment.id, actor=SYSTEM, store=store
    )
    with content:
        assert content.read() == PNG
    assert found is attachment
