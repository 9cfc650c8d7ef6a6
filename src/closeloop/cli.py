"""The `closeloop` command: serve, db, user, token, demo, audit."""

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
