"""Dynamic QRs API (/api/v1/dynamic-qrs/...) and the public redirect (/r/{short_id})."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import (
    Controller,
    MediaType,
    Request,
    Response,
    delete,
    get,
    head,
    patch,
    post,
    put,
)
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter, QueryParameter
from litestar.response import Stream

from ..context import AppContext
from ..errors import ApiError
from ..urls import as_location
from ..web import error_page
from ..workspaces.rules import needs
from ..workspaces.schemas import Caller
from . import service
from .period import parse_scan_bound, parse_stats_day
from .redirect import ScanRedirect
from .rules import InputError
from .schemas import (
    PreviewOut,
    QrCreate,
    QrOut,
    QrPage,
    QrPatch,
    ScanPage,
    StatsOut,
    UtmDefaults,
)

CallerRequest = Request[Caller, Any, Any]
GONE_TITLE = "This code is no longer active"
GONE_MESSAGE = "Its owner switched this QR code off. If you expected something here, ask them."
ENDED_TITLE = "This code has ended"
ENDED_MESSAGE = "This QR code's campaign is over (or has not started yet). Thank you for scanning."
UNKNOWN_TITLE = "Unknown code"
UNKNOWN_MESSAGE = "No QR code goes by this link. Check that it was copied whole."


def _filters(
    date_from: str | None, date_to: str | None, is_bot: bool | None, country: str | None
) -> service.ScanFilters:
    try:
        from_ms = parse_scan_bound("from", date_from, upper=False)
        to_ms = parse_scan_bound("to", date_to, upper=True)
    except InputError as error:
        raise service.as_api_error(error) from None
    if country is not None and not (len(country) == 2 and country.isascii() and country.isalpha()):
        raise ApiError(400, "country: must be a two-letter ISO 3166 code like CA", field="country")
    return service.ScanFilters(from_ms, to_ms, is_bot, country.upper() if country else None)


class DynamicQrController(Controller):
    path = "/api/v1/dynamic-qrs"
    tags = ["dynamic QRs"]

    @post(
        "/",
        status_code=201,
        summary="Create a dynamic QR (counts one generation)",
        opt=needs("editor", "write"),
    )
    async def create(
        self, data: QrCreate, request: CallerRequest, ctx: AppContext
    ) -> Response[QrOut]:
        created = await service.create_qr(ctx, request.user, data)
        headers = {**created.headers, "Location": f"/api/v1/dynamic-qrs/{created.qr.short_id}/"}
        return Response(created.qr, status_code=201, headers=headers)

    @get("/", summary="The caller's dynamic QRs, newest first", opt=needs("viewer", "read"))
    async def list(
        self,
        request: CallerRequest,
        ctx: AppContext,
        cursor: str | None = None,
        limit: int | None = None,
        name: str | None = Parameter(default=None, max_length=200),
        is_active: bool | None = None,
    ) -> QrPage:
        return await service.list_qrs(
            ctx, request.user.owner_id, cursor=cursor, limit=limit, name=name, is_active=is_active
        )

    @get("/{short_id:str}/", summary="One dynamic QR", opt=needs("viewer", "read"))
    async def get_one(self, short_id: str, request: CallerRequest, ctx: AppContext) -> QrOut:
        return await service.get_qr(ctx, request.user.owner_id, short_id)

    @patch(
        "/{short_id:str}/",
        summary="Change name, destination, active flag or variants",
        opt=needs("editor", "write"),
    )
    async def update(
        self, short_id: str, data: QrPatch, request: CallerRequest, ctx: AppContext
    ) -> QrOut:
        return await service.update_qr(ctx, request.user.owner_id, short_id, data)

    @delete(
        "/{short_id:str}/",
        status_code=204,
        summary="Delete (its link then answers 410)",
        opt=needs("editor", "write"),
    )
    async def remove(self, short_id: str, request: CallerRequest, ctx: AppContext) -> None:
        await service.delete_qr(ctx, request.user.owner_id, short_id)

    @get(
        "/{short_id:str}/preview/",
        summary="Where a scan like this would go, and why (nothing recorded)",
        description=(
            "Runs the redirect's own routing for a described scan: `country` (ISO 3166-1"
            " alpha-2, as GeoIP would give), `user_agent` (parsed as a scan's), `language`"
            " (an Accept-Language value such as `fr-CA,fr;q=0.9`), `at` (an ISO 8601 instant;"
            " default now). `outcome` says what decided: a rule (`rule_index`), the variants"
            " (the pick is per scanner, so every option is listed), the destination, or the"
            " lifecycle (`not_started`, `ended`, `capped`: expired_url or 410), or `inactive`."
            " Omitted values are unknown, and an unknown value never matches a condition."
        ),
        opt=needs("viewer", "read"),
    )
    async def preview(
        self,
        short_id: str,
        request: CallerRequest,
        ctx: AppContext,
        country: str | None = Parameter(default=None, max_length=8),
        user_agent: str | None = Parameter(default=None, max_length=2048),
        language: str | None = Parameter(default=None, max_length=256),
        at: str | None = Parameter(default=None, max_length=64),
    ) -> PreviewOut:
        return await service.preview_qr(
            ctx,
            request.user.owner_id,
            short_id,
            country=country,
            user_agent=user_agent,
            language=language,
            at=at,
        )

    @get(
        "/{short_id:str}/scans/",
        summary="Scans of one QR, newest first",
        opt=needs("viewer", "read"),
    )
    async def scans(
        self,
        short_id: str,
        request: CallerRequest,
        ctx: AppContext,
        cursor: str | None = None,
        limit: int | None = None,
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
        is_bot: bool | None = None,
        country: str | None = None,
    ) -> ScanPage:
        filters = _filters(date_from, date_to, is_bot, country)
        return await service.list_scans(
            ctx, request.user.owner_id, short_id, filters, cursor=cursor, limit=limit
        )

    @get(
        "/{short_id:str}/scans.csv",
        summary="Scans of one QR as CSV",
        media_type="text/csv",
        opt=needs("viewer", "read"),
    )
    async def scans_csv(
        self,
        short_id: str,
        request: CallerRequest,
        ctx: AppContext,
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
        is_bot: bool | None = None,
        country: str | None = None,
    ) -> Stream:
        filters = _filters(date_from, date_to, is_bot, country)
        stream = await service.scans_csv(ctx, request.user.owner_id, short_id, filters)
        return Stream(
            stream,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="scans-{short_id}.csv"'},
        )

    @get(
        "/{short_id:str}/stats/",
        summary="Scan stats over whole UTC days (from rollups)",
        opt=needs("viewer", "read"),
    )
    async def stats(
        self,
        short_id: str,
        request: CallerRequest,
        ctx: AppContext,
        date_from: Annotated[str | None, QueryParameter(name="from")] = None,
        date_to: Annotated[str | None, QueryParameter(name="to")] = None,
        bots: Literal["exclude", "include", "only"] = "exclude",
        top: int = Parameter(default=10, ge=1, le=100),
    ) -> StatsOut:
        try:
            first = parse_stats_day("from", date_from)
            last = parse_stats_day("to", date_to)
        except InputError as error:
            raise service.as_api_error(error) from None
        return await service.qr_stats(
            ctx, request.user.owner_id, short_id, date_from=first, date_to=last, bots=bots, top=top
        )


class UtmSettingsController(Controller):
    """UTM defaults for new codes, per workspace (the workspaces migration kept each user's id
    as their personal workspace's, so the defaults saved before carried over)."""

    path = "/api/v1/settings/utm"
    tags = ["settings"]

    @get(
        "/",
        summary="The UTM values new dynamic QRs get when their body has no utm",
        opt=needs("viewer", "read"),
    )
    async def get_defaults(self, request: CallerRequest, ctx: AppContext) -> UtmDefaults:
        return await service.get_utm_defaults(ctx, request.user.owner_id)

    @put(
        "/",
        summary="Set the UTM values for new dynamic QRs (existing QRs keep theirs)",
        description='`{"utm": {source, medium, campaign, term, content}}`; an empty or'
        " missing value is no parameter. Each value at most 200 characters.",
        opt=needs("editor", "write"),
    )
    async def put_defaults(
        self, data: UtmDefaults, request: CallerRequest, ctx: AppContext
    ) -> UtmDefaults:
        return await service.put_utm_defaults(ctx, request.user.owner_id, data.utm)


NO_STORE = {"Cache-Control": "no-store"}
# The redirect is public and answers a small HTML page, not JSON, when it cannot redirect.
REDIRECT_RESPONSES = {
    404: ResponseSpec(
        data_container=None,
        description="Unknown short link (an HTML page)",
        media_type=MediaType.HTML,
    ),
    410: ResponseSpec(
        data_container=None,
        description=(
            "The QR is inactive, or outside its lifecycle (before active_from, after"
            " active_until, past max_scans) with no expired_url (an HTML page)"
        ),
        media_type=MediaType.HTML,
    ),
}


def ended_page(request: Request) -> Response:
    """The 410 a scan outside its code's lifecycle gets when the code has no expired_url."""
    return error_page(request, 410, ENDED_TITLE, ENDED_MESSAGE)


@get(
    "/r/{short_id:str}",
    tags=["redirect"],
    summary="Scan: record it and redirect (302)",
    description=(
        "The destination is, in order: `expired_url` (or a 410 page) outside the lifecycle"
        " (`active_from`, `active_until`, `max_scans`), recorded with the label `(expired)`;"
        " the first rule whose `when` matches; the weighted variant pick (sticky per"
        " scanner); the destination. The QR's `utm` is appended without overriding the"
        " destination's own parameters, and with `forward_query` the scan's query string too."
        " This is the appliance's own host: a QR on a branded domain is served only on that"
        " domain, as `/{short_id}` or `/r/{short_id}` (docs/domains.md, routing by Host)."
    ),
    status_code=302,
    security=[{}],
    responses=REDIRECT_RESPONSES,
)
async def redirect(short_id: str, request: Request, ctx: AppContext) -> Response:
    links = ctx.links
    qr = links.lookup(short_id)
    if qr is None:
        return error_page(request, 404, UNKNOWN_TITLE, UNKNOWN_MESSAGE)
    if not qr.is_live:
        return error_page(request, 410, GONE_TITLE, GONE_MESSAGE)
    headers = request.headers
    client = request.client
    # No quota is consulted here: a printed code must keep working.
    routed = await links.record_scan(
        qr,
        client.host if client else None,
        headers.getall("x-forwarded-for", []),
        headers.get("user-agent"),
        headers.get("referer"),
        headers.get("accept-language"),
        request.scope.get("query_string", b""),
    )
    if not routed.destination_url:
        return ended_page(request)
    return ScanRedirect(routed.destination_url)  # the fast path's very answer (redirect.py)


@head(
    "/r/{short_id:str}",
    tags=["redirect"],
    summary="Where a scan would go (not recorded)",
    status_code=302,
    security=[{}],
    responses=REDIRECT_RESPONSES,
)
async def redirect_head(short_id: str, request: Request, ctx: AppContext) -> Response[None]:
    links = ctx.links
    qr = links.lookup(short_id)
    if qr is None:
        return Response(None, status_code=404, headers=NO_STORE)
    if not qr.is_live:
        return Response(None, status_code=410, headers=NO_STORE)
    client = request.client
    routed = links.preview(
        qr,
        client.host if client else None,
        request.headers.getall("x-forwarded-for", []),
        request.headers.get("user-agent"),
        request.headers.get("accept-language"),
        request.scope.get("query_string", b""),
    )
    if not routed.destination_url:
        return Response(None, status_code=410, headers=NO_STORE)
    return Response(
        None,
        status_code=302,
        headers={"Location": as_location(routed.destination_url), **NO_STORE},
    )
