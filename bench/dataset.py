"""A large help desk for the list benchmark, bulk-loaded and cached between runs.

N tickets created over two years (a growing desk: more tickets recently), 10 teams, 50 agents,
20,000 customers at 800 companies; statuses by age (old tickets closed, recent ones open),
priorities, types and channels skewed; subjects and descriptions from the Chinese and English
demo vocabulary; ``ticket_search`` filled with ``closeloop.kit.search_tokens.document_text``
exactly as the application does (FTS5 rowid = ticket id on SQLite, ``to_tsvector('simple', ...)``
on PostgreSQL); then ANALYZE.

SQLite goes through SQLAlchemy Core executemany; PostgreSQL through COPY. No audit trail and no
messages are written: the list endpoint reads neither.
"""

from __future__ import annotations

import bisect
import itertools
import random
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from psycopg.types.json import Jsonb
from sqlalchemy import Connection, Engine, insert, text

from closeloop.accounts.passwords import hash_password
from closeloop.db import (
    all_models,  # noqa: F401 (every table on the metadata)
    migrate,
)
from closeloop.db.base import Base
from closeloop.db.session import create_database_engine
from closeloop.demo.content import TOPICS, fill, localised_slots, slot_values
from closeloop.kit.search_tokens import document_text
from harness import BENCH_DIR, postgres_database_exists, postgres_url, recreate_postgres_database

# Bump when the generated data changes, so cached databases are rebuilt.
GENERATOR_VERSION = 3
SEED = 20261125
TEAMS = 10
AGENTS = 50
CUSTOMERS = 20_000
COMPANIES = 800
TEXT_POOL = 30_000
CHUNK = 20_000
PASSWORD = "bench-password-1"  # noqa: S105 (a benchmark account)
# Fixed "now" of the dataset, so a cached database keeps meaning the same thing.
NOW = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
SPAN = timedelta(days=730)

_TEAM_WEIGHTS = (20, 15, 12, 10, 10, 8, 8, 7, 5, 5)
_PRIORITIES = (("P1", 3), ("P2", 15), ("P3", 57), ("P4", 25))
_TYPES = (("fault", 45), ("inquiry", 25), ("request", 22), ("complaint", 8))
_CHANNELS = (
    ("email", 35),
    ("wechat", 20),
    ("portal", 14),
    ("web", 10),
    ("phone", 10),
    ("api", 7),
    ("chat", 4),
)
# (age limit in days, [(status, weight)]): old tickets are closed, the last days hold the work.
_STATUS_BY_AGE: tuple[tuple[float, tuple[tuple[str, int], ...]], ...] = (
    (
        2,
        (("new", 25), ("open", 25), ("in_progress", 25), ("pending", 10), ("resolved", 15)),
    ),
    (
        14,
        (
            ("new", 2),
            ("open", 8),
            ("in_progress", 10),
            ("pending", 10),
            ("resolved", 35),
            ("closed", 35),
        ),
    ),
    (
        100_000,
        (("open", 1), ("in_progress", 1), ("pending", 1), ("resolved", 5), ("closed", 92)),
    ),
)
_ORDER_NUMBER = re.compile(r"\bso\d{10}\b")


@dataclass(frozen=True)
class Dataset:
    """A loaded database: where it is, and the people and words the benchmark asks with."""

    label: str
    url: str
    tickets: int
    reused: bool
    load_seconds: float
    supervisor_email: str
    agent_email: str
    agent_team_ids: tuple[int, int]
    common_word: str
    rare_word: str
    chinese_word: str


@dataclass(frozen=True)
class _Text:
    subject: str
    description: str
    document: str
    tags: tuple[str, ...]


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]], k: int) -> list[str]:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=k)


@cache
def _text_pool() -> tuple[_Text, ...]:
    """The texts tickets draw from (their own seed, so every size shares the same words)."""
    rng = random.Random(SEED + 1)
    pool: list[_Text] = []
    for _ in range(TEXT_POOL):
        topic = rng.choice(TOPICS)
        locale = "zh_CN" if rng.random() < 0.7 else "en"
        values = localised_slots(
            slot_values(rng, created_month=rng.randint(1, 12), company="Acme"), locale
        )
        script = topic.script(locale)
        scenario = rng.choice(topic.scenarios)
        subject = fill(script.subjects[rng.choice(scenario.subjects)], values)
        description = fill(script.descriptions[scenario.description], values)
        pool.append(
            _Text(subject, description, document_text(subject, description), topic.tags[:2])
        )
    return tuple(pool)


def _rare_word(pool: Sequence[_Text]) -> str:
    """An order number that occurs in exactly one text of the pool."""
    counts: dict[str, int] = {}
    for item in pool:
        for word in set(_ORDER_NUMBER.findall(item.document)):
            counts[word] = counts.get(word, 0) + 1
    return min(word for word, count in counts.items() if count == 1)


class _People:
    """Organisation rows and who is who, generated deterministically."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.team_members: dict[int, list[int]] = {t: [] for t in range(1, TEAMS + 1)}
        self.memberships: list[tuple[int, int]] = []
        # Agent 1 is the admin, 2 and 3 supervisors, the rest work in one or two teams.
        for agent_id in range(4, AGENTS + 1):
            first = (agent_id - 4) % TEAMS + 1
            teams = [first]
            if agent_id % 3 == 0:
                teams.append(first % TEAMS + 1)
            for team_id in teams:
                self.team_members[team_id].append(agent_id)
                self.memberships.append((team_id, agent_id))
        self.two_team_agent = next(a for a in range(4, AGENTS + 1) if a % 3 == 0)
        self.two_teams = tuple(t for t, a in self.memberships if a == self.two_team_agent)
        self.company_of = [
            rng.randint(1, COMPANIES) if rng.random() < 0.6 else None for _ in range(CUSTOMERS)
        ]
        weights = [1 / (rank + 1) ** 0.7 for rank in range(CUSTOMERS)]
        rng.shuffle(weights)
        self.customer_cumulative = list(itertools.accumulate(weights))

    def agents(self, password_hash: str) -> list[dict[str, Any]]:
        rows = []
        for agent_id in range(1, AGENTS + 1):
            role = "admin" if agent_id == 1 else ("supervisor" if agent_id <= 3 else "agent")
            rows.append(
                {
                    "id": agent_id,
                    "name": f"Agent {agent_id}",
                    "email": f"agent{agent_id}@bench.example",
                    "password_hash": password_hash,
                    "role": role,
                    "locale": "zh_CN" if agent_id % 4 else "en",
                    "time_zone": "Asia/Shanghai",
                    "is_active": True,
                    "is_senior": agent_id % 5 == 0,
                    "created_at": NOW - SPAN - timedelta(days=30),
                    "updated_at": NOW - SPAN - timedelta(days=30),
                    "last_login_at": None,
                }
            )
        return rows

    def teams(self) -> list[dict[str, Any]]:
        return [
            {
                "id": team_id,
                "name": f"Team {team_id}",
                "description": "",
                "email": None,
                "lead_id": self.team_members[team_id][0],
                "is_active": True,
                "created_at": NOW - SPAN - timedelta(days=30),
                "updated_at": NOW - SPAN - timedelta(days=30),
            }
            for team_id in range(1, TEAMS + 1)
        ]


def _statuses(rng: random.Random, ages: Sequence[float]) -> list[str]:
    result: list[str] = []
    for age in ages:
        for limit, weights in _STATUS_BY_AGE:
            if age <= limit:
                result.append(_weighted(rng, weights, 1)[0])
                break
    return result


def _ticket_rows(
    rng: random.Random, people: _People, pool: Sequence[_Text], count: int
) -> Iterator[tuple[list[dict[str, Any]], list[tuple[int, str]], list[tuple[int, str]]]]:
    """Chunks of (ticket rows, tag rows, search rows), oldest ticket first (id order)."""
    # Density grows linearly over the two years: created = start + span * sqrt(u).
    offsets = sorted(SPAN.total_seconds() * rng.random() ** 0.5 for _ in range(count))
    start = NOW - SPAN
    team_ids = list(range(1, TEAMS + 1))
    for chunk_start in range(0, count, CHUNK):
        size = min(CHUNK, count - chunk_start)
        created = [start + timedelta(seconds=s) for s in offsets[chunk_start : chunk_start + size]]
        ages = [(NOW - c).total_seconds() / 86400 for c in created]
        statuses = _statuses(rng, ages)
        priorities = _weighted(rng, _PRIORITIES, size)
        types = _weighted(rng, _TYPES, size)
        channels = _weighted(rng, _CHANNELS, size)
        teams = rng.choices(team_ids, weights=_TEAM_WEIGHTS, k=size)
        requesters = [
            bisect.bisect_left(
                people.customer_cumulative, rng.random() * people.customer_cumulative[-1]
            )
            + 1
            for _ in range(size)
        ]
        tickets: list[dict[str, Any]] = []
        tags: list[tuple[int, str]] = []
        search: list[tuple[int, str]] = []
        for i in range(size):
            ticket_id = chunk_start + i + 1
            item = pool[rng.randrange(len(pool))]
            status = statuses[i]
            created_at = created[i]
            age = ages[i]
            updated_at = min(NOW, created_at + timedelta(hours=rng.uniform(0, min(age, 20) * 24)))
            done = status in ("resolved", "closed")
            team = teams[i] if status != "new" or rng.random() < 0.5 else None
            assignee = (
                rng.choice(people.team_members[team])
                if team is not None and status != "new"
                else None
            )
            tickets.append(
                {
                    "id": ticket_id,
                    "subject": item.subject,
                    "description": item.description,
                    "type": types[i],
                    "priority": priorities[i],
                    "status": status,
                    "pending_reason": "customer" if status == "pending" else None,
                    "channel": channels[i],
                    "requester_id": requesters[i],
                    "company_id": people.company_of[requesters[i] - 1],
                    "team_id": team,
                    "assignee_id": assignee,
                    "tags": list(item.tags),
                    "custom_fields": {},
                    "merged_into_id": None,
                    "created_at": created_at,
                    "updated_at": updated_at,
                    "first_response_at": (
                        created_at + (updated_at - created_at) / 3 if status != "new" else None
                    ),
                    "resolved_at": updated_at if done else None,
                    "closed_at": updated_at if status == "closed" else None,
                    "version": rng.randint(1, 6),
                }
            )
            tags.extend((ticket_id, tag) for tag in item.tags)
            search.append((ticket_id, item.document))
        yield tickets, tags, search


def _organisation_rows(people: _People, rng: random.Random) -> dict[str, list[dict[str, Any]]]:
    then = NOW - SPAN - timedelta(days=30)
    customers = []
    identities = []
    for customer_id in range(1, CUSTOMERS + 1):
        customers.append(
            {
                "id": customer_id,
                "name": f"Customer {customer_id}",
                "company_id": people.company_of[customer_id - 1],
                "tier": "vip" if rng.random() < 0.05 else "standard",
                "is_company_admin": False,
                "locale": "zh_CN" if customer_id % 3 else "en",
                "notes": "",
                "created_at": then,
                "updated_at": then,
            }
        )
        identities.append(
            {
                "id": customer_id,
                "customer_id": customer_id,
                "kind": "email",
                "value": f"customer{customer_id}@bench.example",
                "is_primary": True,
                "created_at": then,
            }
        )
    return {
        "organisations": [
            {
                "id": 1,
                "name": "Bench",
                "default_locale": "zh_CN",
                "time_zone": "Asia/Shanghai",
                "created_at": then,
                "updated_at": then,
            }
        ],
        "agents": people.agents(hash_password(PASSWORD)),
        "teams": people.teams(),
        "team_memberships": [
            {"team_id": t, "agent_id": a, "created_at": then} for t, a in people.memberships
        ],
        "companies": [
            {
                "id": c,
                "name": f"Company {c}",
                "domain": None,
                "tier": "standard",
                "notes": "",
                "created_at": then,
                "updated_at": then,
            }
            for c in range(1, COMPANIES + 1)
        ],
        "customers": customers,
        "customer_identities": identities,
    }


def _insert(connection: Connection, table: str, rows: list[dict[str, Any]]) -> None:
    if rows:
        connection.execute(insert(Base.metadata.tables[table]), rows)


def _copy(connection: Connection, table: str, columns: Sequence[str], rows: Iterator[Any]) -> None:
    raw = connection.connection.driver_connection
    assert raw is not None
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _load_sqlite(engine: Engine, count: int, rng: random.Random, people: _People) -> None:
    pool = _text_pool()
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA cache_size=-524288")  # 512 MB while loading
        for table, rows in _organisation_rows(people, rng).items():
            _insert(connection, table, rows)
        for tickets, tags, search in _ticket_rows(rng, people, pool, count):
            _insert(connection, "tickets", tickets)
            _insert(connection, "ticket_tags", [{"ticket_id": t, "tag": g} for t, g in tags])
            connection.exec_driver_sql(
                "INSERT INTO ticket_search (rowid, document) VALUES (?, ?)", search
            )
            print(f"    {tickets[-1]['id']:,} tickets", end="\r", flush=True)
    print()
    with engine.connect() as connection:
        connection.exec_driver_sql("ANALYZE")
        connection.exec_driver_sql("INSERT INTO ticket_search(ticket_search) VALUES ('optimize')")
        connection.commit()


def _load_postgres(engine: Engine, count: int, rng: random.Random, people: _People) -> None:
    pool = _text_pool()
    with engine.begin() as connection:
        for table, rows in _organisation_rows(people, rng).items():
            _insert(connection, table, rows)
        connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE search_staging (ticket_id BIGINT, document TEXT) ON COMMIT DROP"
        )
        for tickets, tags, search in _ticket_rows(rng, people, pool, count):
            # Only the columns generated here: newer ones keep their defaults (usually NULL).
            columns = tuple(tickets[0])
            _copy(
                connection,
                "tickets",
                columns,
                (
                    tuple(
                        Jsonb(row[c]) if c in ("tags", "custom_fields") else row[c] for c in columns
                    )
                    for row in tickets
                ),
            )
            _copy(connection, "ticket_tags", ("ticket_id", "tag"), iter(tags))
            _copy(connection, "search_staging", ("ticket_id", "document"), iter(search))
            print(f"    {tickets[-1]['id']:,} tickets", end="\r", flush=True)
        print("\n    indexing text (to_tsvector) …", flush=True)
        # Building the GIN index once is far faster than growing it row by row: drop the
        # migration's secondary indexes and recreate them from their exact definitions.
        secondary = [
            (row[0], row[1])
            for row in connection.exec_driver_sql(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ticket_search'"
            )
            if "UNIQUE" not in row[1]
        ]
        names = [name for name, _definition in secondary]
        definitions = [definition for _name, definition in secondary]
        for name in names:
            connection.exec_driver_sql(f'DROP INDEX "{name}"')
        connection.exec_driver_sql(
            "INSERT INTO ticket_search (ticket_id, document) "
            "SELECT ticket_id, to_tsvector('simple', document) FROM search_staging"
        )
        connection.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        for definition in definitions:
            connection.exec_driver_sql(definition)
        for table in (
            "tickets",
            "agents",
            "teams",
            "companies",
            "customers",
            "customer_identities",
        ):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM (ANALYZE)")


def _marker(engine: Engine) -> tuple[int, int] | None:
    """(generator version, ticket count) of a loaded database, or None."""
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT version, tickets FROM bench_dataset")).first()
    except Exception:
        return None
    return None if row is None else (int(row[0]), int(row[1]))


def load(database: str, count: int, postgres_server: str) -> Dataset:
    """The database with ``count`` tickets, loading it unless a matching one is cached."""
    rng = random.Random(SEED)
    people = _People(rng)
    name = f"closeloop_bench_{count}"
    if database == "sqlite":
        path = BENCH_DIR / "list" / f"tickets-{count}.sqlite3"
        url = f"sqlite:///{path}"
        label = f"SQLite ({path.relative_to(BENCH_DIR.parent.parent)})"
        exists = path.exists()
    else:
        url = postgres_url(postgres_server, name)
        label = f"PostgreSQL (database {name})"
        exists = postgres_database_exists(postgres_server, name)
    engine = create_database_engine(url) if exists else None
    marker = _marker(engine) if engine is not None else None
    reused = marker == (GENERATOR_VERSION, count)
    started = time.perf_counter()
    if reused:
        assert engine is not None
        # Migrations added since the load (new columns, indexes) apply to the cached data.
        migrate.upgrade(engine)
    else:
        if engine is not None:
            engine.dispose()
        if database == "sqlite":
            for suffix in ("", "-wal", "-shm"):
                path.with_name(path.name + suffix).unlink(missing_ok=True)
        else:
            recreate_postgres_database(postgres_server, name)
        engine = create_database_engine(url)
        migrate.upgrade(engine)
        print(f"  loading {count:,} tickets into {label} …", flush=True)
        (_load_sqlite if database == "sqlite" else _load_postgres)(engine, count, rng, people)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE TABLE IF NOT EXISTS bench_dataset (version INTEGER, tickets INTEGER)"
            )
            connection.exec_driver_sql("DELETE FROM bench_dataset")
            connection.execute(
                text("INSERT INTO bench_dataset VALUES (:version, :tickets)"),
                {"version": GENERATOR_VERSION, "tickets": count},
            )
    assert engine is not None
    engine.dispose()
    return Dataset(
        label=label,
        url=url,
        tickets=count,
        reused=reused,
        load_seconds=time.perf_counter() - started,
        supervisor_email="agent2@bench.example",
        agent_email=f"agent{people.two_team_agent}@bench.example",
        agent_team_ids=(people.two_teams[0], people.two_teams[1]),
        common_word="vpn",
        rare_word=_rare_word(_text_pool()),
        chinese_word="打印机",
    )
