"""Branded domains of the current workspace (issue 17.6): the list with each domain's status,
fallback, QR count and DNS record; add, change the fallback, delete (owners, the API's rule);
approve a pending one (instance admins, when `[domains] require_approval` is on).

Every rule is the domains service's (domains/service.py); its errors are shown next to the
field they name, or as the flash of the page."""

from __future__ import annotations

from litestar import Request, get, post

from ..domains import service
from ..domains.schemas import DomainCreate, DomainPatch
from ..errors import ApiError
from ..params import RowId
from .ui import app_ctx, current_workspace, errors_of, go, may, page

DOMAINS_URL = "/admin/domains"


async def _page(request: Request, status: int = 200, **context) -> object:
    ctx = app_ctx(request)
    caller = current_workspace(request)
    require_approval = ctx.settings.domains.require_approval
    domains = await service.list_domains(ctx, caller.owner_id)  # deleted ones left out
    context.setdefault("values", {"hostname": "", "fallback_url": ""})
    context.setdefault("errors", {})
    context.setdefault("row_errors", {})
    context.setdefault("row_values", {})
    return page(
        request,
        "domains.html",
        nav="domains",
        status=status,
        domains=domains,
        may_write=may(caller, "owner"),
        limit=ctx.settings.plan(caller.plan).custom_domains,
        owned=len(domains),
        public_host=ctx.domains.public_host,
        scheme=ctx.settings.domains.scheme,
        # Instance admins approve: on this page, the current workspace's pending ones.
        may_approve=caller.is_admin and require_approval,
        require_approval=require_approval,
        **context,
    )


@get("/domains")
async def domains_page(request: Request) -> object:
    return await _page(request)


@post("/domains", opt={"role": "owner"}, status_code=200)
async def add_domain(request: Request) -> object:
    form = await request.form()
    values = {
        "hostname": (form.get("hostname") or "").strip(),
        "fallback_url": (form.get("fallback_url") or "").strip(),
    }
    caller = current_workspace(request)
    try:
        made = await service.create_domain(
            app_ctx(request), caller.owner_id, caller.plan, DomainCreate(**values)
        )
    except ApiError as error:
        status = error.status_code if error.status_code in (400, 403, 409) else 400
        return await _page(request, status=status, values=values, errors=errors_of(error))
    message = (
        f"{made.hostname} added; it waits for an instance admin's approval."
        if made.status == "pending"
        else f"{made.hostname} added. Point its DNS here (below)."
    )
    return go(request, DOMAINS_URL, ("success", message))


@post("/domains/{domain_id:int}/fallback", opt={"role": "owner"}, status_code=303)
async def set_fallback(request: Request, domain_id: RowId) -> object:
    form = await request.form()
    fallback_url = (form.get("fallback_url") or "").strip()
    caller = current_workspace(request)
    try:
        changed = await service.update_domain(
            app_ctx(request), caller.owner_id, domain_id, DomainPatch(fallback_url=fallback_url)
        )
    except ApiError as error:
        if error.status_code != 400:
            raise  # another workspace's domain stays a 404
        problem = errors_of(error)
        return await _page(
            request,
            status=400,
            row_errors={domain_id: problem.get("fallback_url") or problem.get("form", "")},
            row_values={domain_id: fallback_url},
        )
    text = (
        f"{changed.hostname} now sends / and unknown codes to {changed.fallback_url}."
        if changed.fallback_url
        else f"{changed.hostname} now answers / and unknown codes with a plain 404 page."
    )
    return go(request, DOMAINS_URL, ("success", text))


@post("/domains/{domain_id:int}/delete", opt={"role": "owner"}, status_code=303)
async def delete_domain(request: Request, domain_id: RowId) -> object:
    ctx = app_ctx(request)
    caller = current_workspace(request)
    domain = await service.get_domain(ctx, caller.owner_id, domain_id)  # 404 when not ours
    try:
        await service.delete_domain(ctx, caller.owner_id, domain_id)
    except ApiError as error:
        if error.status_code != 409:
            raise
        return go(request, DOMAINS_URL, ("error", str(error.detail)))
    return go(request, DOMAINS_URL, ("success", f"{domain.hostname} deleted."))


@post("/domains/{domain_id:int}/approve", opt={"admin_only": True}, status_code=303)
async def approve_domain(request: Request, domain_id: RowId) -> object:
    approved = await service.approve_domain(app_ctx(request), domain_id)
    return go(
        request,
        DOMAINS_URL,
        ("success", f"{approved.hostname} approved: it serves its codes from now on."),
    )


ROUTES = [domains_page, add_domain, set_fallback, delete_domain, approve_domain]
