"""API keys of the current workspace (issue 16.6), for its owners: create (the key shown once,
in the POST's answer, never flashed), list, revoke.

Every rule is workspaces.service's (the functions the API calls); this module turns forms into
its calls and its answers into pages.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException

from ..clock import iso_ms
from ..errors import ApiError
from ..workspaces import service as workspaces
from ..workspaces.rules import SCOPES
from ..workspaces.schemas import ApiKeyCreate
from .ui import app_ctx, current_workspace, errors_of, flash, go, page

SCOPE_HINTS = {
    "read": "Read QRs, stats, scans, webhooks and deliveries",
    "write": "Also create, change and delete QRs, and generate images",
    "webhooks": "Also create, change and delete webhooks",
}
# Only a workspace's owners (and instance admins, who act as owners) manage its keys.
OWNERS = {"role": "owner"}


def expiry_from_form(value: str) -> str | None:
    """The form's date field: the key stops working at the start of that day (UTC)."""
    value = value.strip()
    if not value:
        return None
    return f"{value}T00:00:00Z" if len(value) == 10 else value


class ApiKeyPages(Controller):
    path = "/api-keys"

    async def _page(
        self,
        request: Request,
        *,
        status: int = 200,
        errors: dict[str, str] | None = None,
        values: dict[str, Any] | None = None,
    ) -> object:
        ctx = app_ctx(request)
        caller = current_workspace(request)
        return page(
            request,
            "api_keys/list.html",
            nav="api-keys",
            status=status,
            keys=await workspaces.list_api_keys(ctx, caller),
            workspace_name=caller.workspace_name,
            scopes=SCOPES,
            scope_hints=SCOPE_HINTS,
            errors=errors or {},
            values=values or {"name": "", "scopes": ["read"], "expires_at": ""},
            now_iso=iso_ms(ctx.clock.now()),
        )

    @get("/", opt=OWNERS)
    async def list_keys(self, request: Request) -> object:
        return await self._page(request)

    @post("/", status_code=200, opt=OWNERS)
    async def create(self, request: Request) -> object:
        form = await request.form()
        values = {
            "name": form.get("name") or "",
            "scopes": form.getall("scopes", []),
            "expires_at": (form.get("expires_at") or "").strip(),
        }
        data = ApiKeyCreate(
            name=values["name"],
            scopes=values["scopes"],
            expires_at=expiry_from_form(values["expires_at"]),
        )
        try:
            created = await workspaces.create_api_key(
                app_ctx(request), current_workspace(request), data
            )
        except ApiError as error:
            return await self._page(
                request, status=error.status_code, errors=errors_of(error), values=values
            )
        # The key appears in this answer only: the box keeps its hash, and never flashes it.
        return page(
            request,
            "api_keys/created.html",
            nav="api-keys",
            api_key=created,
            flash=[flash("success", "API key created.")],
        )

    @post("/{key_id:int}/revoke", opt=OWNERS)
    async def revoke(self, request: Request, key_id: int) -> object:
        try:
            await workspaces.revoke_api_key(app_ctx(request), current_workspace(request), key_id)
        except ApiError as error:
            if error.status_code == 404:
                raise NotFoundException("No API key with that id") from None
            raise
        return go(request, "/admin/api-keys/", ("success", "API key revoked."))


ROUTES = [ApiKeyPages]
