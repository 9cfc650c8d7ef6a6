"""What the benchmark scripts share: where things live, the `closeloop` command, a server
process on a free port, dedicated PostgreSQL databases, and percentiles.

Not a benchmark itself; run the ``ticket_*.py`` scripts next to it.
"""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "var" / "bench"
# The venv's executable sits next to its interpreter; do not resolve the interpreter's symlink.
CLOSELOOP = Path(sys.executable).with_name("closeloop")
# The server the dedicated benchmark databases are created on (never dropped: only the
# databases named by the scripts are).
DEFAULT_POSTGRES_URL = os.environ.get(
    "CLOSELOOP_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def percentile(values: Sequence[float], fraction: float) -> float:
    """The ``fraction`` quantile (0.5, 0.95) of ``values``, interpolated; NaN when empty."""
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


def _maintenance(server_url: str, statement: sql.Composed) -> None:
    url = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as connection:
        connection.execute(statement)


def postgres_url(server_url: str, database: str) -> str:
    return make_url(server_url).set(database=database).render_as_string(hide_password=False)


def postgres_database_exists(server_url: str, database: str) -> bool:
    url = make_url(server_url).set(drivername="postgresql")
    with psycopg.connect(url.render_as_string(hide_password=False), autocommit=True) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
    return found is not None


def recreate_postgres_database(server_url: str, database: str) -> str:
    """Drop ``database`` (if it exists) and create it empty; return its URL."""
    name = sql.Identifier(database)
    _maintenance(server_url, sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
    _maintenance(server_url, sql.SQL("CREATE DATABASE {}").format(name))
    return postgres_url(server_url, database)


def closeloop_env(data_dir: Path, database_url: str) -> dict[str, str]:
    """The environment of a `closeloop` process: this data directory and database only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSELOOP_")}
    env |= {
        "CLOSELOOP_ENVIRONMENT": "development",
        "CLOSELOOP_DATA_DIR": str(data_dir),
        "CLOSELOOP_DATABASE_URL": database_url,
        "CLOSELOOP_LOG_LEVEL": "WARNING",
    }
    return env


def run_closeloop(env: dict[str, str], cwd: Path, *arguments: str) -> str:
    result = subprocess.run(
        [str(CLOSELOOP), *arguments],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"closeloop {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


class ServerProcess:
    """`closeloop serve` on a free port, as an operator starts it (one process)."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / f"serve-{self.port}.log"
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [str(CLOSELOOP), "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                cwd=cwd,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_until_healthy(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"serve exited:\n{self.log_path.read_text(errors='replace')}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"serve did not become healthy within {timeout} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
