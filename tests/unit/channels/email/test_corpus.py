"""Every message of the shared corpus of real-world mail goes through parse_message.

The corpus (/work/shared/corpora/email/, see its SOURCE.txt) is not copied into the repository:
the test skips when it is missing. Each message must parse or be refused with a reason, never
raise anything else.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from closeloop.channels.email.parse import UnparseableMessage, parse_message

CORPUS = Path(os.environ.get("CLOSELOOP_EMAIL_CORPUS", "/work/shared/corpora/email"))
RECEIVED_AT = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
# Messages of the corpus that cannot be a ticket, and why.
UNPARSEABLE = {
    "cpython/msg_05.txt": "no address in From header",  # From: foo
    "cpython/msg_11.txt": "no From address",
    "cpython/msg_18.txt": "no From address",
    "cpython/msg_19.txt": "no From address",
    "cpython/msg_37.txt": "no From address",
    "cpython/msg_38.txt": "no From address",
    "cpython/msg_39.txt": "no From address",
    "cpython/msg_40.txt": "no From address",
    "cpython/msg_43.txt": "no address in From header",  # From: MAILER DAEMON <>
    "mail-parser/mail_outlook_1.eml": "an Outlook .msg file, not an RFC 5322 message",
}
# (sender address, sender name, subject) of messages looked at by hand.
SENDERS_AND_SUBJECTS = {
    "mail-parser/mail_test_12.eml": ("baoguan@hotmail.com", "张先生", "代开各地增值税发票"),
    "mail-parser/mail_test_18.eml": (
        "comma.name@example.com",
        "LastßlName, FirstName",
        "Test for Comma and Name Bugs",
    ),
    "mail-parser/mail_test_5.eml": (
        "contact@carlance.fr",
        "Marina de Carlance",
        "Je prépare mon été zéro complexe !",
    ),
    "mail-parser/mail_test_1.eml": (
        "suvorov.s@nalg.ru",
        "служба ФНС Даниил Суворов",
        "письмо уведом-е",
    ),
    "mail-parser/mail_test_15.eml": (
        "do-not-reply@ncs.gov.ng",
        "purchasing@aquillaindustries.com",
        "Urgent Request for Order Quotation",
    ),
    "mail-parser/mail_test_6.eml": (
        "noreply@ggg.com",
        "Время пришло",
        "Быстрее вкладывайте в золото!",
    ),
    "cpython/msg_01.txt": ("bbb@ddd.com", "John X. Doe", "This is a test message"),
    "cpython/msg_16.txt": (
        "postmaster@ucla.edu",
        "Internet Mail Delivery",
        "Delivery Notification: Delivery has failed",
    ),
}


def corpus_files() -> list[Path]:
    # SOURCE.txt describes the corpus; every other file is one message.
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "SOURCE.txt")


@pytest.fixture
def corpus() -> dict[str, bytes]:
    if not CORPUS.is_dir():
        pytest.skip(f"the email corpus is not on this machine ({CORPUS})")
    return {path.relative_to(CORPUS).as_posix(): path.read_bytes() for path in corpus_files()}


def test_every_message_parses_or_is_refused_with_a_reason(corpus: dict[str, bytes]) -> None:
    parsed: list[str] = []
    refused: dict[str, str] = {}
    for name, raw in corpus.items():
        try:
            parse_message(raw, received_at=RECEIVED_AT)
        except UnparseableMessage as refusal:
            refused[name] = refusal.reason
        else:
            parsed.append(name)

    assert all(reason.strip() for reason in refused.values())
    assert len(parsed) + len(refused) == len(corpus)
    assert refused == {name: why for name, why in UNPARSEABLE.items() if name in corpus}
    assert len(parsed) >= 0.8 * len(corpus)


@pytest.mark.parametrize("name", sorted(SENDERS_AND_SUBJECTS))
def test_known_senders_and_subjects(corpus: dict[str, bytes], name: str) -> None:
    if name not in corpus:
        pytest.skip(f"{name} is not in this copy of the corpus")
    message = parse_message(corpus[name], received_at=RECEIVED_AT)
    assert (message.sender.value, message.sender.name, message.subject) == SENDERS_AND_SUBJECTS[
        name
    ]


def test_known_bounces(corpus: dict[str, bytes]) -> None:
    expected = {
        "cpython/msg_16.txt": ("jangel1@cougar.noc.ucla.edu", "5.0.0"),
        "mail-parser/mail_malformed_2.eml": ("abh@netpar.com.br", "4.2.2"),
    }
    present = {name: facts for name, facts in expected.items() if name in corpus}
    if not present:
        pytest.skip("none of the known bounces is in this copy of the corpus")
    for name, (recipient, status) in present.items():
        dsn = parse_message(corpus[name], received_at=RECEIVED_AT).metadata["dsn"]
        assert (dsn["final_recipient"], dsn["action"], dsn["status"]) == (
            recipient,
            "failed",
            status,
        )


def test_inline_images_and_attachments_of_a_newsletter(corpus: dict[str, bytes]) -> None:
    name = "mail-parser/mail_test_2.eml"
    if name not in corpus:
        pytest.skip(f"{name} is not in this copy of the corpus")
    message = parse_message(corpus[name], received_at=RECEIVED_AT)
    assert [(a.filename, a.inline) for a in message.attachments] == [
        ("intestazione.jpg", True),
        ("logometeo.jpg", True),
        ("Bollettino.pdf", False),
    ]
    assert message.body_html is not None
    assert message.subject == "Bollettino Meteorologico del 29/11/2015"


def test_cyrillic_utf8_with_one_broken_byte_stays_cyrillic(corpus: dict[str, bytes]) -> None:
    # The HTML of this message is UTF-8 with one invalid byte; read as GB18030 (the next guess,
    # which accepts Cyrillic UTF-8 bytes) it would be Chinese-looking nonsense.
    name = "mail-parser/mail_test_6.eml"
    if name not in corpus:
        pytest.skip(f"{name} is not in this copy of the corpus")
    text = parse_message(corpus[name], received_at=RECEIVED_AT).body_text
    assert text.startswith("Профиль\n\n\t\t\t\t\t\t\t\t\t\tСообщения\n")
    assert text.count("\ufffd") == 1
