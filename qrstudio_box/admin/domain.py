"""The admin web UI under /admin: one Router with the session/CSRF hook and security headers."""

from __future__ import annotations

from litestar import Router, get
from litestar.response import Redirect

from . import (
    account_pages,
    api_key_pages,
    auth_pages,
    dashboard,
    domains_pages,
    generate_pages,
    invitation_pages,
    invite_pages,
    password_reset_pages,
    qr_pages,
    settings_pages,
    usage_pages,
    users_pages,
    webhook_pages,
    workspace_pages,
)
from .session import security_headers_middleware
from .ui import before_ui_request


@get("/", include_in_schema=False)
async def root() -> Redirect:
    return Redirect("/admin/", status_code=302)


admin_router = Router(
    path="/admin",
    route_handlers=[
        auth_pages.login_form,
        auth_pages.login_submit,
        auth_pages.logout,
        *password_reset_pages.ROUTES,
        *invite_pages.ROUTES,
        *invitation_pages.ROUTES,
        *account_pages.ROUTES,
        *dashboard.ROUTES,
        *qr_pages.ROUTES,
        *generate_pages.ROUTES,
        *webhook_pages.ROUTES,
        *domains_pages.ROUTES,
        *usage_pages.ROUTES,
        *settings_pages.ROUTES,
        *api_key_pages.ROUTES,
        *users_pages.ROUTES,
        *workspace_pages.ROUTES,
    ],
    before_request=before_ui_request,
    middleware=[security_headers_middleware],
    include_in_schema=False,
)

ROUTES = [root, admin_router]
