"""Pydantic shapes of mailboxes and email templates on the wire (shared by api/ and web/).

The IMAP password is write-only: no read shape carries it, only whether one is set.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, EmailStr, Field, SecretStr, StringConstraints

from closeloop.channels.email.models import EmailMailbox, EmailTeamSettings
from closeloop.kit.schemas import PartialUpdate, Strict

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
Host = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255)]
Folder = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Username = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]
Password = Annotated[SecretStr, Field(max_length=500)]
Port = Annotated[int, Field(ge=1, le=65535)]
SenderName = Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)]
TemplateSubject = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
TemplateBody = Annotated[str, StringConstraints(max_length=20_000)]


class TlsMode(enum.StrEnum):
    """How the IMAP connection is protected: TLS from the start (993), STARTTLS (143), none."""

    ssl = "ssl"
    starttls = "starttls"
    none = "none"


class MailboxCreate(Strict):
    team_id: int
    name: Name
    address: EmailStr = Field(description="The team's address customers write to.")
    imap_host: Host = Field("", description="Empty: no polling (mail arrives by `smtpd`).")
    imap_port: Port = 993
    tls_mode: TlsMode = TlsMode.ssl
    folder: Folder = "INBOX"
    username: Username = ""
    password: Password | None = Field(None, description="IMAP password. Write-only.")
    is_active: bool = True
    mark_seen: bool = Field(
        True, description="Flag fetched messages as read; mail is never deleted."
    )


class MailboxUpdate(PartialUpdate):
    """Only the fields present change; ``"password": null`` removes the password."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset({"password"})

    team_id: int | None = None
    name: Name | None = None
    address: EmailStr | None = None
    imap_host: Host | None = None
    imap_port: Port | None = None
    tls_mode: TlsMode | None = None
    folder: Folder | None = None
    username: Username | None = None
    password: Password | None = None
    is_active: bool | None = None
    mark_seen: bool | None = None


class MailboxRead(BaseModel):
    id: int
    team_id: int
    name: str
    address: str
    imap_host: str
    imap_port: int
    tls_mode: TlsMode
    folder: str
    username: str
    has_password: bool
    is_active: bool
    mark_seen: bool
    uidvalidity: int | None
    last_uid: int
    polled_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, mailbox: EmailMailbox) -> MailboxRead:
        return cls(
            id=mailbox.id,
            team_id=mailbox.team_id,
            name=mailbox.name,
            address=mailbox.address,
            imap_host=mailbox.imap_host,
            imap_port=mailbox.imap_port,
            tls_mode=TlsMode(mailbox.tls_mode),
            folder=mailbox.folder,
            username=mailbox.username,
            has_password=mailbox.password_encrypted is not None,
            is_active=mailbox.is_active,
            mark_seen=mailbox.mark_seen,
            uidvalidity=mailbox.uidvalidity,
            last_uid=mailbox.last_uid,
            polled_at=mailbox.polled_at,
            last_error=mailbox.last_error,
            created_at=mailbox.created_at,
            updated_at=mailbox.updated_at,
        )


class ConnectionTestResult(BaseModel):
    ok: bool
    detail: str = Field(description="What the server answered, or why it failed (no secrets).")
    messages: int | None = Field(None, description="Messages in the folder, when reachable.")


class EmailTemplateUpdate(Strict):
    """A team's sender name and acknowledgement template; empty fields use the defaults."""

    sender_name: SenderName = ""
    acknowledgement_subject_zh: TemplateSubject = ""
    acknowledgement_body_zh: TemplateBody = ""
    acknowledgement_subject_en: TemplateSubject = ""
    acknowledgement_body_en: TemplateBody = ""


class EmailTemplateRead(BaseModel):
    team_id: int
    sender_name: str
    acknowledgement_subject_zh: str
    acknowledgement_body_zh: str
    acknowledgement_subject_en: str
    acknowledgement_body_en: str
    placeholders: list[str] = Field(
        description="What the subject and body may contain, replaced when an email is sent."
    )

    @classmethod
    def of(
        cls, team_id: int, row: EmailTeamSettings | None, placeholders: list[str]
    ) -> EmailTemplateRead:
        return cls(
            team_id=team_id,
            sender_name=row.sender_name if row else "",
            acknowledgement_subject_zh=row.acknowledgement_subject_zh if row else "",
            acknowledgement_body_zh=row.acknowledgement_body_zh if row else "",
            acknowledgement_subject_en=row.acknowledgement_subject_en if row else "",
            acknowledgement_body_en=row.acknowledgement_body_en if row else "",
            placeholders=placeholders,
        )
