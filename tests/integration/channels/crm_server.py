"""A real HTTP server on 127.0.0.1 that answers like an organisation's CRM.

``GET /api/customers?email=…&phone=…`` with ``Authorization: Bearer <TOKEN>`` answers the
record stored for that email or phone (404 when none); every request is kept for assertions.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "crm-token-0123456789"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class CrmState:
    records: dict[str, Any] = field(default_factory=dict)  # email or phone → answer
    requests: list[dict[str, Any]] = field(default_factory=list)
    status_override: int | None = None


def _handler(state: CrmState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
            state.requests.append(
                {
                    "path": parts.path,
                    "query": query,
                    "authorization": self.headers.get("Authorization"),
                }
            )
            if state.status_override is not None:
                self._answer(state.status_override, {"error": "unavailable"})
            elif self.headers.get("Authorization") != f"Bearer {TOKEN}":
                self._answer(401, {"error": "unauthorised"})
            else:
                key = query.get("email") or query.get("phone") or ""
                record = state.records.get(key)
                self._answer(200 if record is not None else 404, record or {"error": "unknown"})

        def _answer(self, status: int, document: Any) -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


class CrmServer:
    def __init__(self) -> None:
        self.state = CrmState()
        self.port = free_port()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self.state))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def template(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/customers?email={{email}}&phone={{phone}}"

    def start(self) -> CrmServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
