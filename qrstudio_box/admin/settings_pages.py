"""Settings: the UTM values new dynamic QRs get (per owner; per workspace once workspaces
exist, keyed by the same id). The rules are links.service's; this page only shows its form."""

from __future__ import annotations

from litestar import Request, get, post

from ..errors import ApiError
from ..links import service as links
from ..links.schemas import Utm
from .ui import app_ctx, current_workspace, go, page


@get("/settings/utm/")
async def utm_form(request: Request) -> object:
    defaults = await links.get_utm_defaults(app_ctx(request), current_workspace(request).owner_id)
    values = {key: getattr(defaults.utm, key) or "" for key in Utm.__struct_fields__}
    return page(request, "settings/utm.html", nav="settings", values=values, error="")


@post("/settings/utm/", status_code=200, opt={"role": "editor"})
async def utm_submit(request: Request) -> object:
    form = await request.form()
    values = {key: (form.get(f"utm_{key}") or "").strip() for key in Utm.__struct_fields__}
    utm = Utm(**{key: value for key, value in values.items() if value})
    try:
        await links.put_utm_defaults(app_ctx(request), current_workspace(request).owner_id, utm)
    except ApiError as error:
        return page(
            request,
            "settings/utm.html",
            nav="settings",
            status=400,
            values=values,
            error=str(error.detail),
        )
    return go(request, "/admin/settings/utm/", ("success", "UTM defaults saved for new QRs."))


ROUTES = [utm_form, utm_submit]
