"""End-to-end journeys: a real `closeloop serve` process and Playwright's Chromium.

The server runs once per test session on a free port with a fresh SQLite database in a
temporary data directory (`closeloop db upgrade`, `closeloop user create`, then customers and
tickets through the JSON API with a token, as an operator's script would). Tests skip with a
reason when /usr/bin/chromium or Playwright is missing.

Fixtures:
- ``e2e``: the running installation (``E2EServer``): ``base_url``, ``agent`` (a member of the
  team "Support") / ``supervisor`` (``Login`` with email, password, name), ``api(method, path,
  json=None)`` as an admin, ``cli(*arguments)``, ``ticket_ids`` (three seeded tickets of the
  team "Support", from the customer 王芳, assigned to nobody). The organisation's language is
  Simplified Chinese; the agents' too.
- ``browser``: one Chromium per session; ``page``: a fresh context (no cookies, 1280×800,
  Accept-Language zh-CN) per test; ``phone_page``: the same at 360×740.
- ``sign_in(page, login)``: signs in through the form and waits for the workspace.
- ``screenshot(page, name)``: saves ``var/test-artifacts/screenshots/<name>.png`` (git-ignored).

Mark journeys ``@pytest.mark.e2e`` and ``@pytest.mark.slow`` (``pytestmark`` at the top of the
module) and put them in ``tests/e2e/test_<journey>.py``.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = REPO_ROOT / "var" / "test-artifacts" / "screenshots"
# The venv's executable sits next to its interpreter; do not resolve the interpreter's symlink.
CLOSELOOP = Path(sys.executable).with_name("closeloop")
START_TIMEOUT = 60.0
PASSWORD = "correct horse battery"

try:
    from playwright.sync_api import Browser, Page, sync_playwright

    PLAYWRIGHT_INSTALLED = True
except ImportError:  # pragma: no cover - the venv has it; a bare checkout may not
    PLAYWRIGHT_INSTALLED = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    reason = None
    if not PLAYWRIGHT_INSTALLED:
        reason = "playwright is not installed"
    elif not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (apt-get install chromium)"
    if reason is None:
        return
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.skip(reason=reason))


@dataclass(frozen=True)
class Login:
    email: str
    password: str
    name: str


@dataclass
class E2EServer:
    base_url: str
    data_dir: Path
    env: dict[str, str]
    agent: Login
    supervisor: Login
    admin_token: str = ""
    ticket_ids: list[int] = field(default_factory=list)

    def cli(self, *arguments: str) -> str:
        result = subprocess.run(
            [str(CLOSELOOP), *arguments],
            cwd=self.data_dir,  # no stray .env from the repository
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, (
            f"closeloop {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}"
        )
        return result.stdout

    def api(self, method: str, path: str, json: Any = None) -> Any:
        response = httpx.request(
            method,
            f"{self.base_url}/api/v1{path}",
            json=json,
            headers={"Authorization": f"Bearer {self.admin_token}"},
            timeout=30,
        )
        assert response.is_success, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_ready(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"closeloop serve exited:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base_url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"closeloop serve did not get ready:\n{log.read_text(errors='replace')}")


def _seed(server: E2EServer) -> None:
    server.cli(
        "user", "create", "--email", "admin@example.com", "--name", "Admin", "--role", "admin",
        "--password", PASSWORD,
    )  # fmt: skip
    server.cli(
        "user", "create", "--email", server.supervisor.email, "--name", server.supervisor.name,
        "--role", "supervisor", "--password", PASSWORD,
    )  # fmt: skip
    server.cli(
        "user", "create", "--email", server.agent.email, "--name", server.agent.name,
        "--role", "agent", "--password", PASSWORD,
    )  # fmt: skip
    output = server.cli("token", "create", "--email", "admin@example.com", "--name", "e2e")
    server.admin_token = next(
        word for line in output.splitlines() for word in line.split() if word.startswith("clp_")
    )


def _seed_tickets(server: E2EServer) -> None:
    team = server.api("POST", "/teams", {"name": "Support"})
    agents = {a["email"]: a["id"] for a in server.api("GET", "/agents")["items"]}
    server.api("PUT", f"/teams/{team['id']}/members/{agents[server.agent.email]}")
    customer = server.api(
        "POST",
        "/customers",
        {"name": "王芳", "emails": ["wang.fang@example.cn"]},
    )
    for subject in ("VPN 无法连接", "Invoice copy for October", "打印机卡纸"):
        ticket = server.api(
            "POST",
            "/tickets",
            {
                "subject": subject,
                "description": subject,
                "requester_id": customer["id"],
                "team_id": team["id"],
            },
        )
        server.ticket_ids.append(ticket["id"])


@pytest.fixture(scope="session")
def e2e(tmp_path_factory: pytest.TempPathFactory) -> Iterator[E2EServer]:
    data_dir = tmp_path_factory.mktemp("e2e")
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CLOSELOOP_")}
    env.update(
        CLOSELOOP_ENVIRONMENT="development",
        CLOSELOOP_DATA_DIR=str(data_dir),
        CLOSELOOP_DATABASE_URL=f"sqlite:///{data_dir / 'e2e.sqlite3'}",
        CLOSELOOP_SECRET_KEY="e2e-secret-key-that-is-long-enough-0123456789",
        CLOSELOOP_PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        CLOSELOOP_LOG_LEVEL="WARNING",
    )
    server = E2EServer(
        base_url=f"http://127.0.0.1:{port}",
        data_dir=data_dir,
        env=env,
        agent=Login("li.lei@example.com", PASSWORD, "李雷"),
        supervisor=Login("han.meimei@example.com", PASSWORD, "韩梅梅"),
    )
    server.cli("db", "upgrade")
    _seed(server)
    log = data_dir / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(CLOSELOOP), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=data_dir,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_ready(server.base_url, process, log)
        _seed_tickets(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


def _page(browser: Browser, e2e: E2EServer, width: int, height: int) -> Iterator[Page]:
    context = browser.new_context(
        base_url=e2e.base_url,
        viewport={"width": width, "height": height},
        locale="zh-CN",
        extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def page(browser: Browser, e2e: E2EServer) -> Iterator[Page]:
    yield from _page(browser, e2e, 1280, 800)


@pytest.fixture
def phone_page(browser: Browser, e2e: E2EServer) -> Iterator[Page]:
    yield from _page(browser, e2e, 360, 740)


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def sign_in() -> Callable[[Page, Login], None]:
    def submit(page: Page, login: Login) -> None:
        page.goto("/login")
        page.fill("#email", login.email)
        page.fill("#password", login.password)
        page.click("form[action='/login'] button[type=submit]")
        page.wait_for_url(re.compile(r"/agent(/[^?]*)?$"))

    return submit
