"""Static QR generation: a form over the same steps as POST /api/v1/generate/.

Text and URL codes render here and count one generation (quotas.service); "dynamic" creates a
dynamic QR through links.service.create_qr and opens its page.
"""

from __future__ import annotations

import base64
from typing import Any

from litestar import Request, get, post

from ..errors import ApiError, FieldProblems, problems_error
from ..links import service as links
from ..links.rules import check_destination
from ..links.schemas import QrCreate
from ..qr.render import OptionsError, parse_options
from ..quotas import service as quotas
from .forms import checkbox
from .ui import app_ctx, current_workspace, errors_of, go, page

DEFAULTS = {
    "data": "",
    "data_type": "url",
    "name": "",
    "format": "png",
    "size": "512",
    "error_correction": "M",
    "dark": "#000000",
    "light": "#ffffff",
    "border": "4",
    "transparent": False,
}


@get("/generate/", opt={"role": "editor"})
async def generate_form(request: Request) -> object:
    return page(
        request, "generate.html", nav="generate", values=dict(DEFAULTS), errors={}, result=None
    )


@post("/generate/", status_code=200, opt={"role": "editor"})
async def generate_submit(request: Request) -> object:
    ctx = app_ctx(request)
    caller = current_workspace(request)
    form = await request.form()
    values: dict[str, Any] = {
        k: (form.get(k) or "").strip() for k in DEFAULTS if k != "transparent"
    }
    values["transparent"] = checkbox(form.get("transparent"))
    data_type = values["data_type"] if values["data_type"] in ("text", "url", "dynamic") else "text"
    values["data_type"] = data_type
    option_values: dict[str, Any] = {
        "data": values["data"] or " ",
        "format": values["format"] or "png",
        "size": values["size"] or "512",
        "border": values["border"] or "4",
        "error_correction": values["error_correction"] or "M",
        "dark": values["dark"] or "#000000",
        "light": "transparent" if values["transparent"] else (values["light"] or "#ffffff"),
    }
    # Every wrong field at once (issue 15.8): the content, then each render option.
    problems = FieldProblems()
    if not values["data"]:
        problems.add("data", "data: enter the text or URL to encode")
    elif data_type in ("url", "dynamic"):
        problems.check(check_destination, "data", values["data"])
    options = problems.check(lambda: parse_options(option_values, from_query=True))
    errors = errors_of(problems_error(problems.found)) if problems else {}
    if errors:
        return page(
            request,
            "generate.html",
            nav="generate",
            status=400,
            values=values,
            errors=errors,
            result=None,
        )

    if data_type == "dynamic":
        try:
            created = await links.create_qr(
                ctx,
                caller,
                QrCreate(destination_url=values["data"], name=values["name"]),
                destination_field="data",
            )
        except ApiError as error:
            return page(
                request,
                "generate.html",
                nav="generate",
                status=error.status_code if error.status_code != 404 else 400,
                values=values,
                errors=errors_of(error),
                result=None,
            )
        return go(request, f"/admin/qrs/{created.qr.short_id}", ("success", "Dynamic QR created."))

    try:
        await ctx.quotas.check_generation(caller)  # over quota: no render for nothing
        rendered = await ctx.renders.render(options)
        await ctx.db.write(
            lambda tx: quotas.charge_generation(tx, caller, ctx.settings, tx.clock.now())
        )
    except OptionsError as error:
        return page(
            request,
            "generate.html",
            nav="generate",
            status=400,
            values=values,
            errors=errors_of(error.as_api_error()),
            result=None,
        )
    except ApiError as error:  # the monthly quota (429), a busy render pool (503)
        refused = page(
            request,
            "generate.html",
            nav="generate",
            status=error.status_code,
            values=values,
            errors=errors_of(error),
            result=None,
        )
        refused.headers.update(error.headers or {})  # Retry-After
        return refused
    data_uri = f"data:{rendered.media_type};base64," + base64.b64encode(rendered.content).decode()
    result = {
        "data_uri": data_uri,
        "format": options.format,
        "width": rendered.width,
        "version": rendered.version,
        "error_correction": rendered.error_correction,
        "filename": f"qr-{rendered.width}px.{options.format}",
    }
    return page(request, "generate.html", nav="generate", values=values, errors={}, result=result)


ROUTES = [generate_form, generate_submit]
