"""The `closeloop` command: serve, worker, smtpd, db, user, token, demo, audit."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from closeloop.accounts import service as accounts
from closeloop.accounts.domain import SYSTEM, Role
from closeloop.config import Settings, load_settings
from closeloop.db import migrate
from closeloop.db.session import UnitOfWork, create_database_engine, create_session_factory
from closeloop.kit.errors import DomainError
from closeloop.kit.logging import configure_logging


@contextmanager
def _unit_of_work(settings: Settings) -> Iterator[UnitOfWork]:
    engine = create_database_engine(settings.resolved_database_url)
    try:
        with UnitOfWork(create_session_factory(engine)) as uow:
            yield uow
    finally:
        engine.dispose()


def _fail(error: DomainError) -> None:
    click.echo(f"error: {error.render('en')}", err=True)
    sys.exit(1)


@click.group()
@click.version_option(package_name="closeloop")
@click.pass_context
def main(context: click.Context) -> None:
    """closeloop: the help desk that closes every loop."""
    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    context.obj = settings


@main.command()
@click.option("--host", default=None, help="Overrides CLOSELOOP_HOST.")
@click.option("--port", type=int, default=None, help="Overrides CLOSELOOP_PORT.")
@click.option("--workers", type=int, default=None, help="Overrides CLOSELOOP_WEB_WORKERS.")
@click.option("--reload", is_flag=True, help="Restart on code changes (development).")
@click.pass_obj
def serve(
    settings: Settings, host: str | None, port: int | None, workers: int | None, reload: bool
) -> None:
    """Serve the web app and the API."""
    import uvicorn

    uvicorn.run(
        "closeloop.app:app_from_environment",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.web_workers,
        reload=reload,
        access_log=False,
        proxy_headers=True,
        # Live update streams never end by themselves: stop waiting for them on shutdown.
        timeout_graceful_shutdown=10,
    )


@main.group()
def db() -> None:
    """Database schema: upgrade, check."""


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True)
@click.pass_obj
def db_upgrade(settings: Settings, revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    engine = create_database_engine(settings.resolved_database_url)
    migrate.upgrade(engine, revision)
    engine.dispose()
    click.echo(f"database at {revision}")


@db.command("check")
@click.pass_obj
def db_check(settings: Settings) -> None:
    """Fail if the models and the migrated schema differ."""
    engine = create_database_engine(settings.resolved_database_url)
    migrate.check(engine)
    engine.dispose()


@main.group()
def user() -> None:
    """Agents: create."""


@user.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option(
    "--role", type=click.Choice([r.value for r in Role]), default="agent", show_default=True
)
@click.option("--password", default=None, help="Omit to be asked; empty means API-token only.")
@click.option("--locale", type=click.Choice(["zh_CN", "en"]), default=None)
@click.pass_obj
def user_create(
    settings: Settings, email: str, name: str, role: str, password: str | None, locale: str | None
) -> None:
    """Create an agent."""
    if password is None and sys.stdin.isatty():
        password = click.prompt(
            "Password", hide_input=True, confirmation_prompt=True, default="", show_default=False
        )
    with _unit_of_work(settings) as uow:
        try:
            agent = accounts.create_agent(
                uow,
                name=name,
                email=email,
                role=Role(role),
                password=password or None,
                locale=locale,
                actor=SYSTEM,
                via="cli:user create",
            )
        except DomainError as error:
            _fail(error)
            return
        uow.commit()
        click.echo(f"created {agent.role} {agent.email} (id {agent.id})")


@main.group()
def token() -> None:
    """API tokens: create."""


@token.command("create")
@click.option("--email", required=True, help="An agent's or a customer's email.")
@click.option("--name", default="", help="What the token is for.")
@click.pass_obj
def token_create(settings: Settings, email: str, name: str) -> None:
    """Create an API token and print it once (the last word of the output)."""
    with _unit_of_work(settings) as uow:
        try:
            _token, secret = accounts.create_api_token(
                uow, email=email, name=name, actor=SYSTEM, via="cli:token create"
            )
        except DomainError as error:
            _fail(error)
            return
        uow.commit()
    click.echo("Store this token now; it is not shown again:")
    click.echo(secret)


@main.group()
def audit() -> None:
    """Audit trail: verify."""


@audit.command("verify")
@click.option("--entity-type", default=None, help="Only this kind of entity (e.g. ticket).")
@click.pass_obj
def audit_verify(settings: Settings, entity_type: str | None) -> None:
    """Recompute every hash chain; exit 1 if any was tampered with."""
    from closeloop.audit import service as audit_service

    with _unit_of_work(settings) as uow:
        broken = audit_service.verify(uow, entity_type=entity_type)
    if not broken:
        click.echo("audit trail intact")
        return
    for (kind, entity_id), breaks in sorted(broken.items()):
        for item in breaks:
            click.echo(f"{kind} {entity_id}: sequence {item.sequence}: {item.reason}")
    sys.exit(1)


@main.command()
@click.option("--once", is_flag=True, help="Run the jobs that are due now, then exit.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker threads in this process (each claims its own jobs).",
)
@click.option("--batch", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option(
    "--poll-interval",
    type=click.FloatRange(0.05, 60),
    default=1.0,
    show_default=True,
    help="Seconds to wait when no job is due.",
)
@click.option(
    "--lease-seconds",
    type=click.IntRange(1, 86_400),
    default=300,
    show_default=True,
    help="How long a claimed job is this worker's: a job still running after it is presumed "
    "lost (its worker died) and runs again elsewhere. Keep it well above your slowest job.",
)
@click.pass_obj
def worker(
    settings: Settings,
    once: bool,
    concurrency: int,
    batch: int,
    poll_interval: float,
    lease_seconds: int,
) -> None:
    """Run background jobs and the periodic schedule until SIGTERM or SIGINT.

    Start as many as you like, on as many machines: claiming is race-free. On a stop signal the
    job in progress finishes and the rest of the batch goes back to the queue; a second signal
    exits at once.
    """
    import signal
    import threading
    from datetime import timedelta

    from closeloop.jobs.runner import Worker, worker_identity
    from closeloop.kit.logging import get_logger
    from closeloop.wiring import build_event_bus, build_job_registry, live_publisher

    log = get_logger("closeloop.worker")
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    engine = create_database_engine(settings.resolved_database_url, pool_size=concurrency + 1)
    registry = build_job_registry(settings)
    session_factory = create_session_factory(engine)
    workers = [
        Worker(
            session_factory,
            registry,
            worker_id=worker_identity(str(number) if concurrency > 1 else ""),
            batch=batch,
            poll_interval=poll_interval,
            read_session_factory=create_session_factory(engine, read_only=True),
            # Tickets the jobs open or change (mail intake, SLA steps) appear live in the pages.
            bus=build_event_bus(live_publisher(settings)),
            lease=timedelta(seconds=lease_seconds),
        )
        for number in range(1, concurrency + 1)
    ]
    stop = threading.Event()
    ran: list[int] = []
    failed: list[str] = []

    def request_stop(signal_number: int, _frame: object) -> None:
        if stop.is_set():
            raise SystemExit(128 + signal_number)
        log.info("worker.stop_requested", signal=signal.Signals(signal_number).name)
        stop.set()

    previous = {number: signal.signal(number, request_stop) for number in stop_signals}

    def loop(job_worker: Worker) -> None:
        if not once:
            job_worker.run_forever(stop)
            return
        try:
            ran.append(job_worker.run_until_idle(stop))
        except Exception as error:  # the database is unreachable, the schema is not migrated...
            failed.append(f"{type(error).__name__}: {error}")

    threads = [
        threading.Thread(target=loop, args=(w,), name=f"closeloop-worker-{n}", daemon=True)
        for n, w in enumerate(workers, start=1)
    ]
    for thread in threads:
        thread.start()
    try:
        # Join in slices so the main thread keeps handling signals.
        while any(thread.is_alive() for thread in threads):
            for thread in threads:
                thread.join(0.5)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        engine.dispose()
    if once:
        click.echo(f"ran {sum(ran)} job(s)")
    if failed:
        click.echo(f"error: {failed[0]}", err=True)
        sys.exit(1)


@main.command()
@click.option("--host", default=None, help="Overrides CLOSELOOP_SMTPD_HOST.")
@click.option("--port", type=int, default=None, help="Overrides CLOSELOOP_SMTPD_PORT.")
@click.pass_obj
def smtpd(settings: Settings, host: str | None, port: int | None) -> None:
    """Receive email for the teams' mailboxes over SMTP until SIGTERM or SIGINT.

    A message is stored (ticket, reply or quarantine) and committed before the 250 answer;
    unknown recipients get 550, oversized messages 552, any failure 451 (the sender retries).
    """
    import signal
    import threading
    from collections.abc import Sequence

    from closeloop.channels.base import IngestResult
    from closeloop.channels.email import smtpd as receiver
    from closeloop.kit.logging import get_logger
    from closeloop.wiring import build_event_bus, configure_channels, live_publisher

    log = get_logger("closeloop.smtpd")
    configure_channels(settings)
    engine = create_database_engine(settings.resolved_database_url)
    session_factory = create_session_factory(engine)
    read_session_factory = create_session_factory(engine, read_only=True)
    bus = build_event_bus(live_publisher(settings))

    def accepts(address: str) -> bool:
        with UnitOfWork(read_session_factory, read_only=True) as uow:
            return receiver.accepts(uow, address)

    def store(raw: bytes, recipients: Sequence[str]) -> IngestResult:
        with UnitOfWork(session_factory, bus=bus) as uow:
            result = receiver.store_message(uow, raw, recipients)
            uow.commit()
            return result

    bind_host = host or settings.smtpd_host
    bind_port = port or settings.smtpd_port
    server = receiver.controller(
        receiver.IntakeHandler(accepts=accepts, store=store),
        host=bind_host,
        port=bind_port,
        max_message_bytes=settings.smtpd_max_message_bytes,
    )
    stop = threading.Event()

    def request_stop(signal_number: int, _frame: object) -> None:
        log.info("smtpd.stop_requested", signal=signal.Signals(signal_number).name)
        stop.set()

    previous = {n: signal.signal(n, request_stop) for n in (signal.SIGTERM, signal.SIGINT)}
    server.start()
    log.info("smtpd.started", host=bind_host, port=bind_port)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        for number, handler in previous.items():
            signal.signal(number, handler)
        engine.dispose()
    log.info("smtpd.stopped")


@main.group()
def demo() -> None:
    """Demo data: seed a bilingual demo organisation."""


@demo.command("seed")
@click.option("--if-empty", is_flag=True, help="Do nothing when any agent exists already.")
@click.option(
    "--seed", "random_seed", type=int, default=None, help="Another story (default: fixed)."
)
@click.pass_obj
def demo_seed(settings: Settings, if_empty: bool, random_seed: int | None) -> None:
    """Create 3 teams, 8 agents, 60 customers and 500 tickets of the last 60 days."""
    from closeloop.demo import seed as demo_data
    from closeloop.kit.clock import FrozenClock, SystemClock

    engine = create_database_engine(settings.resolved_database_url)
    # The seed walks this clock through the last 60 days, so every timestamp tells the story.
    clock = FrozenClock(SystemClock().now())
    try:
        with UnitOfWork(create_session_factory(engine), clock=clock) as uow:
            if if_empty and demo_data.has_agents(uow):
                click.echo("agents exist already: demo seed skipped")
                return
            with click.progressbar(length=1, label="seeding demo data", show_pos=True) as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                try:
                    summary = demo_data.seed_demo(
                        uow,
                        random_seed=random_seed,
                        on_progress=progress,
                    )
                except DomainError as error:
                    _fail(error)
                    return
            uow.commit()
    finally:
        engine.dispose()
    click.echo(
        f"seeded {summary.teams} teams, {summary.agents} agents, {summary.companies} companies, "
        f"{summary.customers} customers, {summary.tickets} tickets, {summary.messages} messages "
        f"({summary.first_ticket_at:%Y-%m-%d} to {summary.last_ticket_at:%Y-%m-%d})"
    )
    click.echo("")
    click.echo("Demo logins (all with the same password):")
    header = f"  {'email':<34} {'password':<16} {'role':<18} name"
    click.echo(header)
    click.echo("  " + "-" * (len(header) + 6))
    for login in summary.logins:
        click.echo(f"  {login.email:<34} {login.password:<16} {login.role:<18} {login.name}")


@main.group()
def sla() -> None:
    """SLA: the default calendar and policy, and recomputing ticket clocks."""


@sla.command("seed-defaults")
@click.pass_obj
def sla_seed_defaults(settings: Settings) -> None:
    """Create the 7x12 Asia/Shanghai calendar (with the shipped CN holidays) and the default
    policy (P1: respond in 15, resolve in 120 business minutes; others: resolve in 1440),
    unless they exist."""
    from closeloop.sla import service as sla_service

    with _unit_of_work(settings) as uow:
        try:
            seeded = sla_service.seed_default_sla(uow, actor=SYSTEM, via="cli:sla seed-defaults")
        except DomainError as error:
            _fail(error)
            return
        uow.commit()
    calendar = "created" if seeded.created_calendar else "exists already"
    policy = "created" if seeded.created_policy else "exists already"
    click.echo(f"calendar {seeded.calendar_id}: {calendar}; policy {seeded.policy_id}: {policy}")


@sla.command("recompute")
@click.option("--all", "include_finished", is_flag=True, help="Resolved and closed tickets too.")
@click.pass_obj
def sla_recompute(settings: Settings, include_finished: bool) -> None:
    """Recompute the clocks of every open ticket now, one committed batch at a time (after a
    calendar or policy change the worker does this in the background)."""
    from closeloop.sla import service as sla_service

    batches = 0
    after_id: int | None = 0
    with _unit_of_work(settings) as uow:
        while after_id is not None:
            after_id = sla_service.recompute_tickets(
                uow, after_id=after_id, include_finished=include_finished
            )
            uow.commit()
            batches += 1
    click.echo(f"recomputed the tickets in {batches} batch(es)")


@main.command()
@click.option(
    "--field",
    type=click.Choice(["team", "type", "priority", "all"]),
    default="all",
    show_default=True,
    help="Which ticket field to learn (with --csv: the one the label column holds; all=team).",
)
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Learn from a CSV export (UTF-8, with a header) instead of this desk's tickets.",
)
@click.option("--text-column", default="text", show_default=True)
@click.option("--label-column", default="team", show_default=True)
@click.option(
    "--activate/--no-activate",
    default=True,
    show_default=True,
    help="Make the new model the field's active one (intake uses it at once).",
)
@click.option(
    "--target-precision",
    type=click.FloatRange(0.5, 1.0),
    default=0.95,
    show_default=True,
    help="The threshold is the lowest confidence whose predictions reach this precision.",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0),
    default=None,
    help="Use this confidence threshold instead of the measured one.",
)
@click.pass_obj
def train(
    settings: Settings,
    field: str,
    csv_path: str | None,
    text_column: str,
    label_column: str,
    activate: bool,
    target_precision: float,
    threshold: float | None,
) -> None:
    """Train the classifier on resolved and closed tickets (or a CSV export), print accuracy,
    macro-F1, the confusion table and the precision/coverage curve on a held-out fifth, and
    store the model with its metrics and threshold."""
    from pathlib import Path

    from closeloop.routing import training

    if csv_path is not None and field == "all":
        field = "team"
    fields = list(training.FIELDS) if field == "all" else [field]
    with _unit_of_work(settings) as uow:
        if csv_path is not None:
            try:
                examples = {
                    field: training.examples_from_csv(
                        Path(csv_path),
                        field=field,
                        text_column=text_column,
                        label_column=label_column,
                    )
                }
            except (training.TrainingError, UnicodeDecodeError) as error:
                click.echo(f"error: {error}", err=True)
                sys.exit(1)
        else:
            examples = training.examples_from_tickets(uow, fields=fields)
        uow.rollback()  # nothing was written: no transaction stays open while fitting
        failed = False
        for name in fields:
            click.echo(f"training {name} on {len(examples[name].texts)} examples ...")
            try:
                result = training.train(examples[name], target_precision=target_precision)
            except training.TrainingError as error:
                click.echo(f"error: {error}", err=True)
                failed = True
                continue
            click.echo(training.format_report(result))
            stored = training.store(
                uow, result, activate=activate, threshold=threshold, via="cli:train"
            )
            uow.commit()
            state = "active" if stored.is_active else "stored, not active"
            shown = "none" if stored.threshold is None else f"{stored.threshold:.3f}"
            click.echo(f"model {stored.id} ({name}): {state}, threshold {shown}")
            click.echo("")
    if failed:
        sys.exit(1)
