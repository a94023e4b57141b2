"""create_app(settings) -> Litestar: the one app, its lifespan, /healthz and the error shape."""

from __future__ import annotations

import gc
import logging
import os
import re
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from litestar import Litestar, MediaType, Request, Response, get
from litestar.di import Provide
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, YamlRenderPlugin

from . import __version__, edge
from .accounts import domain as accounts
from .accounts.tokens import Tokens, build_jwt_auth, load_or_create_key
from .admin import domain as admin
from .clock import Clock, SystemClock
from .config import Settings
from .context import AppContext
from .db import Database
from .domains import domain as domains
from .errors import ApiError, error_body, plain_words
from .events import Outbox
from .links import domain as links
from .mail import domain as mail
from .openapi import document_errors
from .ops import domain as ops
from .qr import domain as qr
from .quotas import domain as quotas
from .quotas.ratelimit import ApiRateLimitMiddleware
from .web import error_page, static_router, template_config
from .webhooks import domain as webhooks
from .workspaces import domain as workspaces
from .workspaces.access import check_access

log = logging.getLogger("qrstudio_box")

# Litestar warns that our bearer middleware's exclude pattern "matches all paths": it tests the
# pattern against "/", which is indeed public. /api/v1/* stays guarded (tests prove it).
warnings.filterwarnings("ignore", message=".*greedily matches all paths.*")

# Each domain module exposes ROUTES and optional `async start(ctx)` / `async stop(ctx)`, and
# optionally `wrap_app(app, ctx, on_crash)` to answer some requests in front of the router.
# Order matters for start: accounts first (bootstrap admin); webhooks before links, whose start
# may already emit events (a code that ended while the box was down) that webhooks must hear;
# domains before links, which reads the domain map (a QR's short_url, the redirect by Host).
# Mail first: everything after it may send.
DOMAINS: list[Any] = [mail, accounts, workspaces, quotas, webhooks, domains, links, qr, ops, admin]


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get(
        "accept", ""
    )


_NAMED_FIELD = re.compile(r"(?:missing required|unknown) field `([^`]+)`")


def _problems(error: ValidationException) -> list[tuple[str | None, str]]:
    """(field, message) pairs; msgspec names a missing or unknown field only in its message."""
    extra = error.extra if isinstance(error.extra, list) else []
    problems = []
    for item in extra:
        if not isinstance(item, dict):
            continue
        key, message = item.get("key"), str(item.get("message", "is invalid"))
        named = _NAMED_FIELD.search(message)
        if named:
            key = named[1]
            message = "is required" if "missing" in message else "is not a known field"
        elif key == "data":
            key = None  # the body as a whole (e.g. an array where an object belongs)
        problems.append((key, plain_words(message)))
    return problems


def _validation_detail(
    error: ValidationException,
) -> tuple[str, str | None, list[tuple[str, str]]]:
    """(detail, first field, every (field, detail)): in plain words, never a validator's."""
    problems = _problems(error)
    if problems:
        found = [(key or "body", f"{key or 'body'}: {message}") for key, message in problems]
        return "; ".join(text for _, text in found), problems[0][0], found
    text = str(error.detail)
    if "JSON" in text or "decode" in text.lower():
        return "body: is not valid JSON", None, []
    return text, None, []


def handle_http_error(request: Request, error: HTTPException) -> Response:
    status = error.status_code
    if isinstance(error, ApiError):
        body = error.body()
    elif isinstance(error, ValidationException):
        detail, field, found = _validation_detail(error)
        body = error_body(400, detail, field=field, problems=found)
        status = 400
    else:
        detail = error.detail
        if status == 404 and detail in ("Not Found", ""):
            detail = "Not found"
        body = error_body(status, detail)
    if status >= 404 and _wants_html(request):
        titles = {
            404: "Page not found",
            405: "Not allowed",
            410: "Gone",
            413: "Too large",
            429: "Slow down",
            503: "Busy",
        }
        page = error_page(
            request, status, titles.get(status, "Something went wrong"), body["detail"]
        )
        page.headers.update(error.headers or {})  # Retry-After and RateLimit-* too
        return page
    return Response(
        content=body, status_code=status, headers=error.headers, media_type=MediaType.JSON
    )


def handle_overflow(request: Request, error: OverflowError) -> Response:
    """A number too large for SQLite reached a query: bad input, not a crash."""
    return Response(
        content=error_body(400, "a number in the request is out of range"),
        status_code=400,
        media_type=MediaType.JSON,
    )


# msgspec refuses JSON nested past the interpreter's recursion limit with a RecursionError
# carrying this message; every other RecursionError is a bug of ours.
_TOO_DEEP = "while deserializing"


def handle_recursion(request: Request, error: RecursionError) -> Response:
    """A body nested ~1,000 deep (`[[[[...`) is bad input: 400 naming it, no traceback."""
    if _TOO_DEEP not in str(error):
        return handle_crash(request, error)
    return Response(
        content=error_body(400, "body: JSON is nested too deeply"),
        status_code=400,
        media_type=MediaType.JSON,
    )


def handle_crash(request: Request, error: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    if _wants_html(request):
        return error_page(
            request, 500, "Something went wrong", "The error was logged. Please try again."
        )
    return Response(
        content=error_body(500, "Internal server error"), status_code=500, media_type=MediaType.JSON
    )


# `security=[{}]` marks a route public in the schema (the app default is the bearer token).
@get("/healthz", tags=["operations"], summary="Liveness and readiness", security=[{}])
async def healthz(ctx: AppContext) -> Response[dict[str, str]]:
    database = "ok"
    try:
        await ctx.db.fetchone("SELECT 1")
        # Reads alone would say ok while every scan fails with "database or disk is full".
        problem = await ctx.db.write_problem()
        if problem:
            database = f"cannot write: {problem}"
    except Exception as error:  # noqa: BLE001 - any failure means "down", reported by name
        database = f"error: {error}"
    scheduler = "running" if ctx.scheduler is not None and ctx.scheduler.running else "stopped"
    healthy = database == "ok" and scheduler == "running"
    body = {
        "status": "ok" if healthy else "unavailable",
        "database": database,
        "scheduler": scheduler,
        "version": ctx.version,
    }
    return Response(
        body, status_code=200 if healthy else 503, headers={"Cache-Control": "no-store"}
    )


def tune_garbage_collector() -> None:
    """Fewer, cheaper cyclic-GC pauses for the long-running server (`run` only).

    Everything built by the start (Litestar, the routes, ua-parser's tables, the QR map...) lives
    as long as the process: ``gc.freeze`` moves it out of the collector's sight, so a full
    collection no longer walks it (50-60 ms stalls were measured, each a step in redirect p99).
    Young objects are collected every 10,000 allocations instead of 700: a scan allocates a few
    hundred, and most die young without the cycle collector's help. Redirect bench at 64
    connections, back to back: p99 28-29 -> 24-25 ms, max 41-67 -> 28-32 ms, +9 % scans/s.
    Tests build many apps in one process and must not freeze each one, hence the flag.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def create_app(
    settings: Settings,
    clock: Clock | None = None,
    env: dict[str, str] | None = None,
    tune_gc: bool = False,
) -> Litestar:
    clock = clock or SystemClock()
    ctx = AppContext(
        settings=settings,
        db=Database(settings.database_path, clock, settings=settings, outbox=Outbox()),
        clock=clock,
        version=__version__,
        env=dict(os.environ if env is None else env),
    )
    ctx.tokens = Tokens(
        load_or_create_key(settings.data_dir),
        timedelta(minutes=settings.accounts.token_ttl_minutes),
    )
    ctx.auth = build_jwt_auth(ctx.db, ctx.tokens)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        await ctx.db.open()
        ctx.http = httpx.AsyncClient(timeout=10.0, follow_redirects=False)
        ctx.scheduler = AsyncIOScheduler(timezone="UTC")
        ctx.scheduler.add_job(
            ctx.db.maintain,
            "interval",
            minutes=15,
            id="db-maintain",
            coalesce=True,
            max_instances=1,
        )
        started = []
        # Build the schema now (it is cached) and document the error shape on it.
        document_errors(app.openapi_schema)
        try:
            for domain in DOMAINS:
                if hasattr(domain, "start"):
                    await domain.start(ctx)
                started.append(domain)
            ctx.scheduler.start()
            if tune_gc:
                tune_garbage_collector()
            yield
        finally:
            if ctx.scheduler.running:
                ctx.scheduler.shutdown(wait=False)
            for domain in reversed(started):
                if hasattr(domain, "stop"):
                    await domain.stop(ctx)
            await ctx.http.aclose()
            await ctx.db.close()

    routes: list[Any] = [healthz, static_router()]
    for domain in DOMAINS:
        routes.extend(domain.ROUTES)

    openapi = OpenAPIConfig(
        title="QRStudio Box API",
        version=__version__,
        path="/schema",
        # JSON and YAML only: the HTML viewers load scripts from CDNs, and the appliance
        # must not fetch anything from the internet.
        render_plugins=[JsonRenderPlugin(path=["/", "/openapi.json"]), YamlRenderPlugin()],
    )

    app = Litestar(
        route_handlers=routes,
        dependencies={"ctx": Provide(lambda: ctx, sync_to_thread=False)},
        lifespan=[lifespan],
        on_app_init=[ctx.auth.on_app_init],
        # Per-workspace plan rate limit on /api/v1/; runs after JWT auth (which inserts itself
        # first), so it knows the workspace.
        middleware=[ApiRateLimitMiddleware()],
        # What each /api/v1 route needs (its opt["access"]): role, API key scope, or admin.
        guards=[check_access],
        exception_handlers={
            HTTPException: handle_http_error,
            OverflowError: handle_overflow,
            RecursionError: handle_recursion,
            Exception: handle_crash,
        },
        openapi_config=openapi,
        template_config=template_config(),
        request_max_body_size=settings.server.max_body_bytes,
        debug=False,
        # Logging belongs to the process (cli.run configures text or JSON), not to the app.
        logging_config=None,
    )
    app.state.ctx = ctx
    for domain in DOMAINS:
        if hasattr(domain, "wrap_app"):  # links: the redirect's fast path
            domain.wrap_app(app, ctx, handle_crash)
    # Outermost: the header size limit, and security headers on every HTML answer.
    app.asgi_handler = edge.wrap(app.asgi_handler)
    return app
