"""The real `closeloop` command and server, as an operator runs them: migrate, create an admin
and a token, serve, open a ticket, SIGKILL the server, start it again, and find the ticket.

On SQLite (a fresh file in a temporary data directory) and, when CLOSELOOP_TEST_DATABASE_URL is
set, on PostgreSQL in a dedicated database (``closeloop_system``), so the other suites' schema
resets never meet this one.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

pytestmark = pytest.mark.slow

# The venv's executable sits next to its interpreter; do not resolve the interpreter's symlink.
CLOSELOOP = Path(sys.executable).with_name("closeloop")
POSTGRES_URL = os.environ.get("CLOSELOOP_TEST_DATABASE_URL", "")
SYSTEM_DATABASE = "closeloop_system"
START_TIMEOUT = 60.0
COMMAND_TIMEOUT = 120.0


@dataclass(frozen=True)
class Installation:
    """A data directory and a database, as `closeloop` sees them through its environment."""

    data_dir: Path
    env: dict[str, str]

    def run(self, *arguments: str) -> str:
        result = subprocess.run(
            [str(CLOSELOOP), *arguments],
            cwd=self.data_dir,  # no stray .env from the repository
            env=self.env,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
        assert result.returncode == 0, (
            f"closeloop {' '.join(arguments)} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
        return result.stdout


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _maintenance(statement: sql.Composed) -> None:
    """Run ``statement`` outside a transaction, connected to the test database."""
    url = make_url(POSTGRES_URL).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as connection:
        connection.execute(statement)


def _drop_postgres_database(name: str) -> None:
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
    _maintenance(drop.format(sql.Identifier(name)))


def _recreate_postgres_database(name: str) -> str:
    """Drop and create ``name`` next to the test database; return its URL."""
    _drop_postgres_database(name)
    _maintenance(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", *(["postgresql"] if POSTGRES_URL else [])])
def installation(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Installation]:
    assert CLOSELOOP.exists(), f"{CLOSELOOP} is missing: install the package into the venv"
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
    env |= {
        "CLOSELOOP_ENVIRONMENT": "development",
        "CLOSELOOP_DATA_DIR": str(data_dir),
        "CLOSELOOP_LOG_LEVEL": "WARNING",
    }
    if request.param == "sqlite":
        env["CLOSELOOP_DATABASE_URL"] = f"sqlite:///{data_dir / 'fresh.sqlite3'}"
        yield Installation(data_dir=data_dir, env=env)
        return
    env["CLOSELOOP_DATABASE_URL"] = _recreate_postgres_database(SYSTEM_DATABASE)
    yield Installation(data_dir=data_dir, env=env)
    _drop_postgres_database(SYSTEM_DATABASE)


class Server:
    """One `closeloop serve` process on a free port."""

    def __init__(self, installation: Installation) -> None:
        self.port = _free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = installation.data_dir / f"serve-{self.port}.log"
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(CLOSELOOP), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=installation.data_dir,
                env=installation.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_healthy(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"serve exited with {self.process.returncode}:\n{self.output()}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        pytest.fail(f"serve did not answer /healthz within {START_TIMEOUT} s:\n{self.output()}")

    def kill_hard(self) -> None:
        self.process.kill()  # SIGKILL: no shutdown handler, no flush, no goodbye
        self.process.wait(timeout=10)
        assert self.process.returncode == -9

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


def test_acknowledged_ticket_survives_sigkill(
    installation: Installation, servers: list[Server]
) -> None:
    assert "database at head" in installation.run("db", "upgrade")
    created = installation.run(
        "user",
        "create",
        "--email",
        "ops@example.com",
        "--name",
        "运维 Ops",
        "--role",
        "admin",
        "--password",
        "a long enough password",
    )
    assert "created admin ops@example.com" in created
    token = installation.run("token", "create", "--email", "ops@example.com").split()[-1]
    assert token.startswith("clp_")
    headers = {"Authorization": f"Bearer {token}"}

    first = Server(installation)
    servers.append(first)
    first.wait_until_healthy()
    ready = httpx.get(f"{first.base_url}/readyz", timeout=5.0)
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] == "ok"
    openapi = httpx.get(f"{first.base_url}/api/v1/openapi.json", timeout=5.0)
    assert openapi.status_code == 200
    assert "/api/v1/tickets" in openapi.json()["paths"]

    answer = httpx.post(
        f"{first.base_url}/api/v1/tickets",
        json={
            "subject": "打印机无法连接 Printer offline",
            "description": "三楼的打印机从早上开始脱机。",
            "type": "fault",
            "priority": "P2",
            "requester": {"email": "li.lei@example.cn", "name": "李雷"},
        },
        headers=headers,
        timeout=10.0,
    )
    assert answer.status_code == 201, answer.text
    ticket = answer.json()

    first.kill_hard()
    second = Server(installation)
    servers.append(second)
    second.wait_until_healthy()

    found = httpx.get(f"{second.base_url}/api/v1/tickets/{ticket['id']}", headers=headers)
    assert found.status_code == 200, found.text
    assert found.json()["number"] == ticket["number"]
    assert found.json()["subject"] == "打印机无法连接 Printer offline"
    assert found.json()["created_at"] == ticket["created_at"]
    listed = httpx.get(f"{second.base_url}/api/v1/tickets", params={"q": "打印机"}, headers=headers)
    assert [t["number"] for t in listed.json()["items"]] == [ticket["number"]]
