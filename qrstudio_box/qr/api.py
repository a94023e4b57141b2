"""The image routes: POST /api/v1/generate/ (static text or URL, or a new dynamic QR's short
link) and GET /api/v1/dynamic-qrs/{short_id}/image (an existing dynamic QR's short link).

Both live here, beside the renderer, so the links domain needs nothing from this one."""

from __future__ import annotations

import base64
from typing import Any, Literal

import msgspec
from litestar import Request, Response, get, post

from ..context import AppContext
from ..errors import FieldProblems
from ..links import service as links
from ..links.rules import check_destination
from ..links.schemas import GenerateOut, QrCreate
from ..links.shortid import LENGTH as SHORT_ID_LENGTH
from ..quotas import service as quotas
from ..workspaces.rules import needs
from ..workspaces.schemas import Caller
from .render import RENDER_FIELDS, OptionsError, Rendered, RenderOptions, parse_options


class GenerateBody(msgspec.Struct, forbid_unknown_fields=True):
    """Types only; ranges, colours and the scale/size choice are checked by parse_options so
    every complaint names its field the same way."""

    # Typed loosely on purpose: Litestar reports a body field named `data` with the same key
    # as the body itself, so the spine cannot name it; generate() checks it and names it.
    data: Any = None  # required: the text, URL, or (dynamic) destination URL, a string
    data_type: Literal["text", "url", "dynamic"] = "text"
    name: str = ""  # dynamic only: the new QR's name
    domain: str | None = None  # dynamic only: its branded domain (as POST /dynamic-qrs/)
    short_id: str | None = None  # dynamic only, with a domain: its chosen short id
    format: Literal["png", "svg"] = "png"
    scale: int | None = None
    size: int | None = None
    border: int = 4
    error_correction: Literal["L", "M", "Q", "H"] = "M"
    dark: str = "#000000"
    light: str = "#ffffff"


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _answer(
    request: Request,
    rendered: Rendered,
    body: GenerateBody,
    encoded: str,
    headers: dict[str, str],
    status: int,
    short_id: str | None = None,
    short_url: str | None = None,
) -> Response[Any]:
    if _wants_json(request):
        data_uri = (
            f"data:{rendered.media_type};base64," + base64.b64encode(rendered.content).decode()
        )
        out = GenerateOut(
            data_uri=data_uri,
            media_type=rendered.media_type,
            format=body.format,
            width=rendered.width,
            height=rendered.height,
            version=rendered.version,
            error_correction=rendered.error_correction,
            data=encoded,
            data_type=body.data_type,
            short_id=short_id,
            short_url=short_url,
        )
        return Response(out, status_code=status, headers=headers)
    if short_id is not None and short_url is not None:
        headers = {**headers, "X-QRStudio-Short-Id": short_id, "Location": short_url}
    return Response(
        rendered.content, status_code=status, media_type=rendered.media_type, headers=headers
    )


@post(
    "/api/v1/generate/",
    tags=["QR codes"],
    status_code=200,
    summary="Render a QR code (PNG or SVG bytes, or JSON with Accept: application/json)",
    opt=needs("editor", "write"),
)
async def generate(
    data: GenerateBody, request: Request[Caller, Any, Any], ctx: AppContext
) -> Response[Any]:
    body = data
    options_values = {field: getattr(body, field) for field in RENDER_FIELDS}
    caller: Caller = request.user
    # Every wrong field in one answer: the data first, then each render option.
    problems = FieldProblems()
    if not isinstance(body.data, str):
        problems.add("data", "data: is required and must be a string")
        options_values["data"] = "x"
    elif body.data_type == "url":
        problems.check(check_destination, "data", body.data)
    if body.data_type != "dynamic":
        for field in ("domain", "short_id"):
            if getattr(body, field) is not None:
                problems.add(field, f"{field}: only for a dynamic QR (data_type dynamic)")
    options = problems.check(parse_options, options_values)
    problems.raise_if_any()
    assert options is not None

    # Everything that refuses is asked before anything is rendered: the size (400), the monthly
    # quota (429, one read; the charge in the write transaction below stays the authority) and
    # a free render worker (503). The per-user rate limit was spent before this handler ran.
    if body.data_type == "dynamic":
        # Exactly POST /dynamic-qrs/: checks, plan limit, one generation, the event; but only
        # once the image is known to fit and a render worker is ours, so a refusal (400, 503)
        # creates and charges nothing. A generated short id gives the size (they are all as
        # long); a chosen one and the domain are measured as given.
        stand_in = links.short_url(ctx, body.short_id or "x" * SHORT_ID_LENGTH, body.domain)
        await _check_size(ctx, msgspec.structs.replace(options, data=stand_in))
        await ctx.quotas.check_generation(caller)
        async with ctx.renders.reserve() as slot:
            created = await links.create_qr(
                ctx,
                caller,
                QrCreate(
                    destination_url=body.data,
                    name=body.name,
                    domain=body.domain,
                    short_id=body.short_id,
                ),
                destination_field="data",
            )
            options = msgspec.structs.replace(options, data=created.qr.short_url)
            rendered = await slot.render(options)
        return _answer(
            request,
            rendered,
            body,
            created.qr.short_url,
            created.headers,
            201,
            created.qr.short_id,
            created.qr.short_url,
        )

    await _check_size(ctx, options)
    await ctx.quotas.check_generation(caller)
    try:
        rendered = await ctx.renders.render(options)
    except OptionsError as error:  # data too long for any QR: still a 400, still not charged
        raise error.as_api_error() from None
    charge = await ctx.db.write(
        lambda tx: quotas.charge_generation(tx, caller, ctx.settings, tx.clock.now())
    )
    return _answer(request, rendered, body, body.data, dict(charge.headers), 200)


async def _check_size(ctx: AppContext, options: RenderOptions) -> None:
    """400 naming the field when the image would be too large, before anything else is done."""
    try:
        await ctx.renders.check_size(options)
    except OptionsError as error:
        raise error.as_api_error() from None


@get(
    "/api/v1/dynamic-qrs/{short_id:str}/image",
    tags=["dynamic QRs"],
    summary="The QR image of the short link (the generate options)",
    media_type="image/png",
    responses=None,
    opt=needs("viewer", "read"),
)
async def dynamic_qr_image(
    short_id: str,
    request: Request[Caller, Any, Any],
    ctx: AppContext,
    format: Literal["png", "svg"] = "png",
    scale: int | None = None,
    size: int | None = None,
    border: int | None = None,
    error_correction: Literal["L", "M", "Q", "H"] | None = None,
    dark: str | None = None,
    light: str | None = None,
) -> Response[bytes]:
    qr = await links.get_qr(ctx, request.user.owner_id, short_id)
    given = {
        "format": format,
        "scale": scale,
        "size": size,
        "border": border,
        "error_correction": error_correction,
        "dark": dark,
        "light": light,
    }
    values = {key: value for key, value in given.items() if value is not None}
    try:
        options = parse_options({"data": qr.short_url, **values})
        rendered = await ctx.renders.render(options)
    except OptionsError as error:
        raise error.as_api_error() from None
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f'inline; filename="{short_id}.{options.format}"',
            "Cache-Control": "private, max-age=300",
        },
    )
