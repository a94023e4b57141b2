"""/api/v1/domains/ (a workspace's branded domains), the admin's approval, and Caddy's TLS ask
endpoint /internal/tls-ask."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import Parameter

from ..context import AppContext
from ..errors import ApiError
from ..params import RowId
from ..workspaces.rules import ADMIN, PUBLIC, needs
from . import service
from .rules import may_ask_for_certificates
from .schemas import (
    AdminDomain,
    AdminDomainList,
    Domain,
    DomainCreate,
    DomainList,
    DomainPatch,
    DomainStatus,
)


def _workspace(request: Request) -> tuple[int, str]:
    """(workspace id, its plan) the call acts on (request.user is a workspaces Caller)."""
    caller = request.user
    return caller.owner_id, caller.plan


class DomainsController(Controller):
    path = "/api/v1/domains"
    tags = ["domains"]

    # Adding, changing or deleting a domain decides where a client's printed codes go: a
    # signed-in owner does it, never an API key (scope None). Members and read keys may look.
    @post(
        "/",
        summary="Add a branded domain (pending when the box requires approval)",
        opt=needs("owner", None),
    )
    async def create(self, request: Request, ctx: AppContext, data: DomainCreate) -> Domain:
        workspace_id, plan = _workspace(request)
        return await service.create_domain(ctx, workspace_id, plan, data)

    @get("/", summary="The workspace's branded domains", opt=needs("viewer", "read"))
    async def list_all(self, request: Request, ctx: AppContext) -> DomainList:
        return DomainList(results=await service.list_domains(ctx, _workspace(request)[0]))

    @get(
        "/{domain_id:int}/",
        summary="One branded domain, with the DNS record it needs",
        opt=needs("viewer", "read"),
    )
    async def get_one(self, request: Request, ctx: AppContext, domain_id: RowId) -> Domain:
        return await service.get_domain(ctx, _workspace(request)[0], domain_id)

    @patch(
        "/{domain_id:int}/",
        summary="Change the fallback URL ('' removes it)",
        opt=needs("owner", None),
    )
    async def update(
        self, request: Request, ctx: AppContext, domain_id: RowId, data: DomainPatch
    ) -> Domain:
        return await service.update_domain(ctx, _workspace(request)[0], domain_id, data)

    @delete(
        "/{domain_id:int}/",
        summary="Delete a branded domain no live QR uses (else 409)",
        opt=needs("owner", None),
    )
    async def remove(self, request: Request, ctx: AppContext, domain_id: RowId) -> None:
        await service.delete_domain(ctx, _workspace(request)[0], domain_id)


class AdminDomainsController(Controller):
    path = "/api/v1/admin/domains"
    tags = ["admin"]

    @get("/", summary="Every branded domain of the box (e.g. ?status=pending)", opt=ADMIN)
    async def list_all(
        self,
        ctx: AppContext,
        status: DomainStatus | None = Parameter(default=None, description="only this status"),
    ) -> AdminDomainList:
        return AdminDomainList(results=await service.list_all_domains(ctx, status))

    @post(
        "/{domain_id:int}/approve/",
        status_code=200,
        summary="Approve a pending domain: it serves its codes and gets a certificate",
        opt=ADMIN,
    )
    async def approve(self, ctx: AppContext, domain_id: RowId) -> AdminDomain:
        return await service.approve_domain(ctx, domain_id)


# Caddy's on_demand_tls `ask`: before it requests a certificate for a name it has never seen,
# it asks here. Not under /api/v1 (no token: Caddy has none) and not in the schema.
@get("/internal/tls-ask", include_in_schema=False, security=[{}], opt=PUBLIC)
async def tls_ask(
    request: Request, ctx: AppContext, domain: str | None = None
) -> Response[dict[str, Any]]:
    """200 for an active branded domain, 404 for any other name; only for the box itself and
    `[server] trusted_proxies` (403 for anyone else)."""
    peer = request.client.host if request.client else ""
    if not may_ask_for_certificates(
        peer,
        request.headers.getall("x-forwarded-for", []),
        ctx.trusted_proxies,
        other_proxy_headers="forwarded" in request.headers or "x-real-ip" in request.headers,
    ):
        raise ApiError(403, "Only this box's reverse proxy may ask")
    if not domain:
        raise ApiError(400, "domain: is required", field="domain")
    entry = ctx.domains.by_host(domain)
    if entry is None or not entry.is_active:
        raise ApiError(404, f"{domain} is not an active branded domain here")
    return Response({"domain": entry.hostname, "status": entry.status})
