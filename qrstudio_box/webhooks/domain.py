"""Webhooks domain: routes, and the dispatcher's start and stop."""

from __future__ import annotations

import logging

from .. import __version__
from ..context import AppContext
from . import outbox, service
from .api import WebhooksController, ip_ranges
from .dispatcher import Dispatcher
from .secretbox import KEY_FILE_NAME, SecretBox
from .transport import build_client
from .urlsafety import UrlPolicy, switches_on_warning, system_resolver

log = logging.getLogger("qrstudio_box.webhooks")

ROUTES = [WebhooksController, ip_ranges]

DISPATCH_JOB = "webhooks-dispatch"
HEALTH_JOB = "webhooks-health"


async def start(ctx: AppContext) -> None:
    settings = ctx.settings.webhooks
    key_path = ctx.settings.data_dir / KEY_FILE_NAME
    if not key_path.exists() and await ctx.db.fetchone("SELECT 1 FROM webhooks LIMIT 1"):
        # Scans must keep working, so we start anyway, with a new key: deliveries of the existing
        # webhooks fail with "Not sent: ..." until the old key is put back or each secret rotated.
        log.error(
            "%s is missing but the database holds webhook secrets: restore the key file from your "
            "backup and restart, or rotate every webhook's secret",
            key_path,
        )
    secret_box = SecretBox.load_or_create(ctx.settings.data_dir)
    url_policy = UrlPolicy(
        allow_http=settings.allow_http, allow_private_targets=settings.allow_private_targets
    )
    warning = switches_on_warning(url_policy)
    if warning:
        log.warning(warning)
    runtime: service.WebhooksRuntime | None = None

    async def resolve(host: str, port: int) -> list[str]:  # late-bound: tests swap the resolver
        return await runtime.resolver(host, port)

    client = build_client(policy=url_policy, resolver=resolve, ca_bundle=settings.ca_bundle or None)
    dispatcher = Dispatcher(
        db=ctx.db,
        clock=ctx.clock,
        client=client,
        secret_box=secret_box,
        user_agent=f"QRStudio-Webhooks/{__version__}",
        limits=settings,
    )
    runtime = service.WebhooksRuntime(
        url_policy=url_policy,
        resolver=system_resolver,
        secret_box=secret_box,
        client=client,
        dispatcher=dispatcher,
    )
    ctx.webhooks = runtime
    await dispatcher.resume_after_restart()
    runtime.fan_out = outbox.subscribe(ctx.db.outbox, wake=dispatcher.wake)
    if ctx.scheduler is not None:
        ctx.scheduler.add_job(
            dispatcher.tick,
            "interval",
            seconds=1,
            id=DISPATCH_JOB,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
        ctx.scheduler.add_job(
            service.apply_health_rules,
            "interval",
            args=[ctx],
            minutes=1,
            id=HEALTH_JOB,
            coalesce=True,
            max_instances=1,
            replace_existing=True,
        )
    dispatcher.wake()  # deliveries left pending by the last run go out now


async def stop(ctx: AppContext) -> None:
    runtime = ctx.webhooks
    if runtime.fan_out is not None:
        ctx.db.outbox.unsubscribe(runtime.fan_out)
    await runtime.dispatcher.close()
    await runtime.client.aclose()
