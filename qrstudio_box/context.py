"""AppContext: what every handler and job can reach (the `ctx` dependency)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from .clientip import parse_networks
from .clock import Clock
from .config import Settings
from .db import Database

if TYPE_CHECKING:  # for editors and type checkers: the domains import this module, not back
    from .domains.service import DomainMap
    from .links.service import LinksService
    from .mail.service import Mailer
    from .quotas.service import QuotaService
    from .webhooks.service import WebhooksRuntime
    from .workspaces.service import ApiKeyJudge
else:  # Litestar resolves these annotations at run time (ctx is a dependency)
    LinksService = WebhooksRuntime = QuotaService = Mailer = DomainMap = ApiKeyJudge = Any


@dataclass(eq=False)
class AppContext:
    settings: Settings
    db: Database
    clock: Clock
    version: str
    http: httpx.AsyncClient | None = None
    scheduler: AsyncIOScheduler | None = None
    # Env of the process (bootstrap admin credentials); tests pass their own.
    env: dict[str, str] = field(default_factory=dict)
    # Litestar JWTAuth for /api/v1 (the bearer middleware), built on `tokens`.
    auth: Any = None
    # accounts.tokens.Tokens: issues API tokens and UI sessions, knows which still count.
    tokens: Any = None
    # The render pool (qr/pool.py): every image is rendered through it.
    renders: Any = None
    # One service object per domain, set by that domain's start(ctx), before the app serves
    # anything: unset until then (reading one raises AttributeError), never None.
    links: LinksService = field(init=False, repr=False)
    webhooks: WebhooksRuntime = field(init=False, repr=False)
    quotas: QuotaService = field(init=False, repr=False)
    mail: Mailer = field(init=False, repr=False)
    # Branded domains by host name (domains/service.DomainMap): the redirect's Host routing and
    # the TLS ask endpoint read it with no query.
    domains: DomainMap = field(init=False, repr=False)
    api_keys: ApiKeyJudge = field(init=False, repr=False)  # judges `Bearer qsb_...`
    # [server] trusted_proxies, parsed once for every reader of client addresses (the redirect's
    # scanner, the login throttle): pass it to clientip.client_ip. Its items are
    # clientip.Network; typed Any because Litestar's signature model (ctx is a dependency)
    # cannot express a union of two classes.
    trusted_proxies: tuple[Any, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.trusted_proxies = parse_networks(self.settings.server.trusted_proxies)
