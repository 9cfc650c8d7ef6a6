"""What the WeChat tests share: the fixtures' payloads, WeChat's signing, and a local server
that answers like the documented official account API.

The server (``http.server`` in a thread, on a free port of 127.0.0.1) implements:

- ``GET /cgi-bin/token?grant_type=client_credential&appid=…&secret=…`` →
  ``{"access_token": …, "expires_in": 7200}``; a wrong secret → ``errcode`` 40125.
- ``GET /cgi-bin/media/get?access_token=…&media_id=…`` → the file, with ``Content-Type`` and
  ``Content-disposition: attachment; filename="<media_id>.<ext>"``; videos →
  ``{"video_url": …}``; an unknown media id → ``errcode`` 40007.
- ``POST /cgi-bin/message/custom/send?access_token=…`` (JSON body) → ``{"errcode": 0,
  "errmsg": "ok"}``; a follower who last wrote more than 48 hours ago → 45015.
- Any call with a token it did not issue → 40001; ``expire_next`` makes the next call with a
  valid token answer 42001 (access_token expired) once.
"""

from __future__ import annotations

import json
import re
import secrets
import socket
import threading
from dataclasses import dataclass, field
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wechatpy.crypto import WeChatCrypto  # type: ignore[import-untyped]

from closeloop.channels.wechat.signature import compute_signature

FIXTURES = Path(__file__).parents[4] / "tests" / "fixtures" / "wechat"
APP_ID = "wx5823bf96d3bd56c7"
APP_SECRET = "b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5"
TOKEN = "closeloopToken2026"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OPENID = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
AMR = b"#!AMR\n" + b"\x3c" * 64


def payload(name: str, **fields: str | int) -> str:
    """A fixture push with some fields replaced: ``payload("text", MsgId=1, Content="hi")``."""
    xml = (FIXTURES / f"{name}.xml").read_text()
    for tag, value in fields.items():
        pattern = re.compile(rf"(<{tag}>)(<!\[CDATA\[)?(.*?)(\]\]>)?(</{tag}>)", re.DOTALL)

        def replace(match: re.Match[str], value: str = str(value)) -> str:
            opening, cdata, _old, _end, closing = match.groups()
            return (
                f"{opening}<![CDATA[{value}]]>{closing}" if cdata else f"{opening}{value}{closing}"
            )

        xml, count = pattern.subn(replace, xml)
        assert count == 1, f"{name}.xml has no <{tag}>"
    return xml


@dataclass(frozen=True)
class Signed:
    """The query WeChat adds to a push, and its body."""

    params: dict[str, str]
    body: bytes


def sign(
    xml: str,
    *,
    timestamp: int,
    token: str = TOKEN,
    encrypted: bool = False,
    aes_key: str = AES_KEY,
    app_id: str = APP_ID,
    nonce: str | None = None,
) -> Signed:
    """Sign (and with ``encrypted`` seal, as in safe mode) a push exactly as WeChat does."""
    nonce = nonce or secrets.token_hex(5)
    stamp = str(timestamp)
    params = {
        "signature": compute_signature(token, stamp, nonce),
        "timestamp": stamp,
        "nonce": nonce,
        "openid": OPENID,
    }
    if not encrypted:
        return Signed(params, xml.encode())
    envelope = WeChatCrypto(token, aes_key, app_id).encrypt_message(xml, nonce, stamp)
    msg_signature = re.search(r"<MsgSignature><!\[CDATA\[(\w+)\]\]>", envelope)
    assert msg_signature is not None
    # WeChat posts <ToUserName> and <Encrypt> only; wechatpy's envelope is the reply shape.
    encrypt = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", envelope, re.DOTALL)
    assert encrypt is not None
    body = (
        "<xml><ToUserName><![CDATA[gh_3f1c2a9b7d10]]></ToUserName>"
        f"<Encrypt><![CDATA[{encrypt.group(1)}]]></Encrypt></xml>"
    )
    params |= {"encrypt_type": "aes", "msg_signature": msg_signature.group(1)}
    return Signed(params, body.encode())


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class FakeWeChat:
    """The state of the local WeChat API: issued tokens, media, what was sent."""

    app_id: str = APP_ID
    app_secret: str = APP_SECRET
    tokens: list[str] = field(default_factory=list)
    media: dict[str, tuple[bytes, str, str]] = field(default_factory=dict)
    sent: list[dict[str, Any]] = field(default_factory=list)
    uploads: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # media_id → (type, bytes)
    calls: list[str] = field(default_factory=list)
    expire_next: bool = False
    refuse_with: int | None = None  # errcode for the next custom/send
    refuse_after: int = 0  # …after this many more messages were accepted
    base_url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add_media(self, media_id: str, content: bytes, content_type: str, extension: str) -> None:
        self.media[media_id] = (content, content_type, extension)

    def token_calls(self) -> int:
        return sum(1 for call in self.calls if call == "/cgi-bin/token")


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _json(self, answer: dict[str, Any], status: int = 200) -> None:
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; encoding=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _handle(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        with state.lock:
            state.calls.append(url.path)
            if url.path == "/cgi-bin/token" and method == "GET":
                self._token(query)
                return
            if url.path == "/files/video.mp4":
                self._file(b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32, "video/mp4", "")
                return
            token = query.get("access_token", "")
            if token not in state.tokens:
                self._json({"errcode": 40001, "errmsg": "invalid credential"})
                return
            if state.expire_next:
                state.expire_next = False
                state.tokens.remove(token)
                self._json({"errcode": 42001, "errmsg": "access_token expired"})
                return
            if url.path == "/cgi-bin/media/get" and method == "GET":
                self._media(query.get("media_id", ""))
                return
            if url.path == "/cgi-bin/media/upload" and method == "POST":
                self._upload(query.get("type", ""), body)
                return
            if url.path == "/cgi-bin/message/custom/send" and method == "POST":
                self._send(json.loads(body))
                return
        self._json({"errcode": 404, "errmsg": "not found"}, status=404)

    def _token(self, query: dict[str, str]) -> None:
        state = self.server.state
        if query.get("grant_type") != "client_credential" or query.get("appid") != state.app_id:
            self._json({"errcode": 40013, "errmsg": "invalid appid"})
            return
        if query.get("secret") != state.app_secret:
            self._json({"errcode": 40125, "errmsg": "invalid appsecret"})
            return
        token = f"ACCESS_TOKEN_{len(state.tokens) + 1}_{secrets.token_hex(4)}"
        state.tokens.append(token)
        self._json({"access_token": token, "expires_in": 7200})
        return

    def _media(self, media_id: str) -> None:
        state = self.server.state
        if media_id not in state.media:
            self._json({"errcode": 40007, "errmsg": "invalid media_id"})
            return
        content, content_type, extension = state.media[media_id]
        if content_type.startswith("video/"):
            self._json({"video_url": f"{state.base_url}/files/video.mp4"})
            return
        self._file(content, content_type, f"{media_id}.{extension}")
        return

    def _file(self, content: bytes, content_type: str, filename: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if filename:
            self.send_header("Content-disposition", f'attachment; filename="{filename}"')
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        self.wfile.write(content)

    def _upload(self, media_type: str, body: bytes) -> None:
        """multipart/form-data with the file in the field ``media`` (as WeChat documents)."""
        state = self.server.state
        header = f"Content-Type: {self.headers.get('Content-Type', '')}\r\n\r\n".encode()
        form = BytesParser(policy=policy.HTTP).parsebytes(header + body)
        files = [
            part
            for part in form.iter_parts()
            if part.get_param("name", header="content-disposition") == "media"
        ]
        if media_type != "image" or len(files) != 1:
            self._json({"errcode": 40004, "errmsg": "invalid media type"})
            return
        content = files[0].get_payload(decode=True)
        media_id = f"UPLOADED_{len(state.uploads) + 1}"
        state.uploads[media_id] = (files[0].get_content_type(), bytes(content))
        self._json({"type": "image", "media_id": media_id, "created_at": 1795572000})

    def _send(self, message: dict[str, Any]) -> None:
        state = self.server.state
        if state.refuse_with is not None and state.refuse_after > 0:
            state.refuse_after -= 1
            state.sent.append(message)
            self._json({"errcode": 0, "errmsg": "ok"})
            return
        if state.refuse_with is not None:
            code, state.refuse_with = state.refuse_with, None
            self._json({"errcode": code, "errmsg": "response out of time limit"})
            return
        state.sent.append(message)
        self._json({"errcode": 0, "errmsg": "ok"})
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, state: FakeWeChat) -> None:
        super().__init__(("127.0.0.1", free_port()), _Handler)
        self.state = state


def start_fake_wechat(state: FakeWeChat) -> tuple[ThreadingHTTPServer, threading.Thread]:
    server = _Server(state)
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="fake-wechat", daemon=True)
    thread.start()
    return server, thread
