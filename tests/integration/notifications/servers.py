"""Real servers the notification tests send to: an SMTP server (aiosmtpd) and an HTTP server that
answers like the WeCom, DingTalk and Feishu bot APIs and verifies signatures as they do.

The bot server checks what the vendors document:

- WeCom (企业微信): ``POST /wecom/send?key=<key>``; unknown key → ``errcode`` 93000.
- DingTalk (钉钉): ``POST /dingtalk/robot/send?access_token=<token>&timestamp=<ms>&sign=<sign>``;
  ``sign`` = urlencode(base64(HMAC-SHA256(key=secret, "<timestamp>\\n<secret>"))), timestamp
  within one hour → otherwise ``errcode`` 310000.
- Feishu (飞书): ``POST /feishu/hook/<id>`` with ``timestamp`` (seconds) and ``sign`` in the body;
  ``sign`` = base64(HMAC-SHA256(key="<timestamp>\\n<secret>", message="")), timestamp within one
  hour → otherwise ``code`` 19021.
- Generic webhook: ``POST /webhook`` with ``X-Closeloop-Timestamp`` and ``X-Closeloop-Signature``
  (HMAC-SHA256 over ``"<timestamp>.<body>"``), five minutes of tolerance → otherwise HTTP 401.

Its "now" is the test's frozen clock, as a vendor's is the real time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.smtp import SMTP, Envelope, Session

from closeloop.kit.clock import FrozenClock

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "a1b2c3d4e5f6"
DINGTALK_SECRET = "SEC0123456789abcdef0123456789abcdef"
FEISHU_HOOK = "5e3d587e-d78e-4a07-bd07-265f269f86fd"
FEISHU_SECRET = "nIMtb7r3N9pkXyXdtAbx6e"
WEBHOOK_SECRET = "whsec_0123456789"
ONE_HOUR_MS = 3_600_000


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MailCollector:
    """aiosmtpd handler keeping every accepted message."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(  # noqa: N802 (aiosmtpd's hook name)
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    @property
    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.envelopes:
            content = envelope.original_content or envelope.content
            assert isinstance(content, bytes)
            message = message_from_bytes(content, policy=policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed


@dataclass
class Received:
    vendor: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    accepted: bool

    @property
    def document(self) -> Any:
        return json.loads(self.body)


@dataclass
class BotServer:
    clock: FrozenClock
    received: list[Received] = field(default_factory=list)
    # Answer every request with this vendor error instead (e.g. a rate limit), when set.
    refuse_with: tuple[int, str] | None = None
    port: int = 0

    def accepted(self, vendor: str) -> list[Received]:
        return [item for item in self.received if item.vendor == vendor and item.accepted]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    # --- the vendors' checks ----------------------------------------------------------------

    def wecom(self, query: dict[str, list[str]], document: Any) -> tuple[int, dict[str, Any]]:
        if query.get("key") != [WECOM_KEY]:
            return 200, {"errcode": 93000, "errmsg": "invalid webhook url"}
        markdown = document.get("markdown") or {}
        if document.get("msgtype") != "markdown" or not markdown.get("content"):
            return 200, {"errcode": 40008, "errmsg": "invalid message type"}
        if len(markdown["content"].encode()) > 4096:
            return 200, {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    def dingtalk(self, query: dict[str, list[str]], document: Any) -> tuple[int, dict[str, Any]]:
        if query.get("access_token") != [DINGTALK_TOKEN]:
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        timestamp, sign = query.get("timestamp", [""])[0], query.get("sign", [""])[0]
        if not timestamp.isdigit() or abs(self.now_ms - int(timestamp)) > ONE_HOUR_MS:
            return 200, {"errcode": 310000, "errmsg": "sign not match, timestamp is invalid"}
        digest = hmac.new(
            DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
        ).digest()
        # parse_qs already undid the URL-encoding the sender had to apply.
        if not hmac.compare_digest(base64.b64encode(digest).decode(), sign):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        markdown = document.get("markdown") or {}
        if document.get("msgtype") != "markdown" or not markdown.get("title"):
            return 200, {"errcode": 40035, "errmsg": "missing parameter markdown.title"}
        return 200, {"errcode": 0, "errmsg": "ok"}

    def feishu(self, path: str, document: Any) -> tuple[int, dict[str, Any]]:
        if path != f"/feishu/hook/{FEISHU_HOOK}":
            return 404, {"code": 19001, "msg": "param invalid: incoming webhook access token"}
        timestamp, sign = str(document.get("timestamp", "")), str(document.get("sign", ""))
        if not timestamp.isdigit() or abs(self.now_ms // 1000 - int(timestamp)) > 3600:
            return 200, {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour",
            }
        key = f"{timestamp}\n{FEISHU_SECRET}".encode()
        expected = base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, sign):
            return 200, {
                "code": 19021,
                "msg": "sign match fail or timestamp is not within one hour",
            }
        card = document.get("card") or {}
        if document.get("msg_type") != "interactive" or not card.get("elements"):
            return 200, {"code": 9499, "msg": "Bad Request"}
        return 200, {"StatusCode": 0, "StatusMessage": "success", "code": 0, "msg": "success"}

    def webhook(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        timestamp = headers.get("x-closeloop-timestamp", "")
        signature = headers.get("x-closeloop-signature", "")
        if not timestamp.isdigit() or abs(self.now_ms // 1000 - int(timestamp)) > 300:
            return 401, {"error": "stale"}
        expected = hmac.new(
            WEBHOOK_SECRET.encode(), timestamp.encode() + b"." + body, hashlib.sha256
        ).hexdigest()
        if not hmac.compare_digest(f"sha256={expected}", signature):
            return 401, {"error": "bad signature"}
        return 204, {}

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        vendor = parts.path.strip("/").split("/")[0]
        status, document = 404, {}
        if self.refuse_with is not None:
            code, message = self.refuse_with
            field_name = "code" if vendor == "feishu" else "errcode"
            status, document = 200, {field_name: code, "errmsg": message, "msg": message}
        elif vendor == "webhook":
            status, document = self.webhook(headers, body)
        else:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = {}
            if vendor == "wecom":
                status, document = self.wecom(query, parsed)
            elif vendor == "dingtalk":
                status, document = self.dingtalk(query, parsed)
            elif vendor == "feishu":
                status, document = self.feishu(parts.path, parsed)
        accepted = (
            200 <= status < 300 and document.get("errcode", 0) == 0 and document.get("code", 0) == 0
        )
        self.received.append(Received(vendor, parts.path, query, headers, body, accepted))
        return status, json.dumps(document).encode() if document else b""


def start_bot_server(bots: BotServer) -> tuple[ThreadingHTTPServer, threading.Thread]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            status, answer = bots.answer(self.path, headers, body)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    bots.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread
