"""create_app(settings) -> the ASGI application: API, pages, health checks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine, text

from closeloop import __version__
from closeloop.api.middleware import BodySizeLimit
from closeloop.api.problems import install_problem_handlers
from closeloop.api.v1 import router as api_v1_router
from closeloop.config import Settings
from closeloop.db.session import (
    READ_ONLY_OPTION,
    create_database_engine,
    create_session_factory,
)
from closeloop.jobs.runner import Worker, WorkerThread, worker_identity
from closeloop.kit.clock import Clock, SystemClock
from closeloop.kit.logging import get_logger
from closeloop.web import router as web_router
from closeloop.web.errors import install_page_handlers
from closeloop.web.live.broker import Broker
from closeloop.web.live.presence import Presence
from closeloop.wiring import build_event_bus, build_job_registry, configure_channels

API_PREFIX = "/api/v1"
STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"
log = get_logger(__name__)


def create_app(settings: Settings, *, clock: Clock | None = None, engine: Any = None) -> FastAPI:
    database = engine or create_database_engine(settings.resolved_database_url)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        # Each serve process (uvicorn may run several) runs its own worker: claiming is
        # race-free, so they share the queue safely. Tests turn it off (Settings.embedded_worker).
        embedded = (
            _start_embedded_worker(settings, clock, engine, _app.state.broker)
            if settings.embedded_worker
            else None
        )
        yield
        if embedded is not None:
            # Off the event loop: the job in progress may take a moment to finish.
            await asyncio.to_thread(embedded.stop)
        await _app.state.broker.aclose()
        _app.state.presence.close()
        if engine is None:
            database.dispose()

    app = FastAPI(
        title="closeloop",
        version=__version__,
        summary="Help desk API: tickets, customers, agents, teams.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    configure_channels(settings)
    app.state.engine = database
    app.state.session_factory = create_session_factory(database)
    app.state.read_session_factory = create_session_factory(database, read_only=True)
    app.state.clock = clock or SystemClock()
    # Live updates: committed ticket changes go to the broker, which feeds the SSE streams
    # (in this process, or through Redis in every process).
    app.state.broker = Broker(settings.redis_url)
    app.state.presence = Presence(
        clock=app.state.clock, redis_url=settings.redis_url, publisher=app.state.broker
    )
    app.state.bus = build_event_bus(app.state.broker)
    install_problem_handlers(app)
    # Pages answer errors with HTML; /api keeps problem+json.
    install_page_handlers(app)
    app.add_middleware(
        BodySizeLimit,
        json_limit=settings.max_request_bytes,
        upload_limit=settings.max_attachment_bytes,
    )
    app.include_router(api_v1_router, prefix=API_PREFIX)
    app.include_router(web_router)
    # Our own static files and the pinned third-party ones `make install` copies into vendor/.
    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")

    @app.get("/api/docs", include_in_schema=False)
    def api_docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{API_PREFIX}/openapi.json",
            title="closeloop API",
            swagger_js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
            swagger_css_url="/static/vendor/swagger-ui/swagger-ui.css",
            swagger_favicon_url="/static/favicon.svg",
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> JSONResponse:
        """Alive: the process answers."""
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    def readyz(request: Request) -> JSONResponse:
        """Ready: the database answers and is migrated."""
        try:
            reader = request.app.state.engine.execution_options(**{READ_ONLY_OPTION: True})
            with reader.connect() as connection:
                revision = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar()
        except Exception:
            return JSONResponse(
                {"status": "unavailable", "database": "unreachable"}, status_code=503
            )
        if revision is None:
            return JSONResponse(
                {"status": "unavailable", "database": "not migrated"}, status_code=503
            )
        return JSONResponse({"status": "ok", "database": "ok", "revision": revision})

    return app


class _EmbeddedWorker:
    """The worker thread of a serve process, with the engine it owns (if any)."""

    def __init__(self, thread: WorkerThread, engine: Engine | None) -> None:
        self.thread = thread
        self.engine = engine

    def stop(self) -> None:
        stopped = self.thread.stop(timeout=30.0)
        if not stopped:
            # The job in progress keeps its lease; another worker reclaims it when it expires.
            log.warning("embedded_worker.stop_timed_out", worker_id=self.thread.worker.worker_id)
        if self.engine is not None:
            self.engine.dispose()


def _start_embedded_worker(
    settings: Settings, clock: Clock | None, injected_engine: Engine | None, broker: Broker
) -> _EmbeddedWorker:
    """Start the job worker thread of this serve process, on its own small engine (or on the
    engine the caller injected, whose database it must share)."""
    own_engine = (
        None
        if injected_engine is not None
        else create_database_engine(settings.resolved_database_url, pool_size=2)
    )
    worker_engine = injected_engine or own_engine
    assert worker_engine is not None
    session_factory = create_session_factory(worker_engine)
    worker_clock = clock or SystemClock()
    worker = Worker(
        session_factory,
        build_job_registry(settings),
        clock=worker_clock,
        worker_id=worker_identity("embedded"),
        read_session_factory=create_session_factory(worker_engine, read_only=True),
        # Tickets the worker opens or changes (mail intake, SLA escalations) appear live too.
        bus=build_event_bus(broker),
    )
    thread = WorkerThread(worker, name="closeloop-embedded-worker")
    thread.start()
    return _EmbeddedWorker(thread, own_engine)


def app_from_environment() -> FastAPI:
    """The factory `closeloop serve` hands to uvicorn (one per worker process)."""
    from closeloop.config import load_settings
    from closeloop.kit.logging import configure_logging

    settings = load_settings()
    configure_logging(settings.log_level, settings.log_json)
    return create_app(settings)
