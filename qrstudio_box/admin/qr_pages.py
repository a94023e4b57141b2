"""Dynamic QR pages: list, create/edit with variants, detail with preview, downloads, stats, CSV.

Every rule and query is the links domain's (links.service); this module only turns forms into
its inputs and its answers into pages.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Stream

from ..clock import unix_ms
from ..errors import ApiError
from ..links import service as links
from ..links.schemas import QrCreate, QrPatch, VariantIn
from ..qr.render import OptionsError, parse_options
from . import charts
from .forms import checkbox, parse_variants
from .ui import app_ctx, current_user, errors_of, go, page

PAGE_SIZE = 20
SCAN_PAGE_SIZE = 25
STAT_DAYS = (7, 30, 90)
PREVIEW_SIZE = 480
DOWNLOAD_SIZES = (256, 512, 1024, 2048)
DEFAULT_DOWNLOAD_SIZE = 512


def _values_from_form(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    variants, errors = parse_variants(
        form.getall("variant_label", []),
        form.getall("variant_url", []),
        form.getall("variant_weight", []),
    )
    values = {
        "name": (form.get("name") or "").strip(),
        "destination_url": (form.get("destination_url") or "").strip(),
        "is_active": checkbox(form.get("is_active")),
        "variants": variants,
    }
    return values, errors


def _scan_filters(today: date, days: int, bots: str) -> links.ScanFilters:
    """The last `days` whole UTC days up to today; bots excluded, included or only."""
    start = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=UTC)
    return links.ScanFilters(
        from_ms=unix_ms(start), is_bot={"exclude": False, "only": True}.get(bots)
    )


def _variants_in(values: dict[str, Any]) -> list[VariantIn]:
    return [
        VariantIn(label=v["label"], destination_url=v["destination_url"], weight=v["weight"])
        for v in values["variants"]
    ]


async def _owned(request: Request, short_id: str):
    try:
        return await links.get_qr(app_ctx(request), current_user(request).id, short_id)
    except ApiError as error:
        if error.status_code == 404:
            raise NotFoundException("No dynamic QR with that id") from None
        raise


async def _save(
    request: Request, qr: Any, write: Callable[[dict[str, Any]], Awaitable[str]], done: str
) -> object:
    """The create and edit forms' POST: the form's values, `write` them (it returns the short id),
    then the QR's page; or the form again with every error (the form's own and the API's)."""
    values, errors = _values_from_form(await request.form())
    if not errors:
        try:
            short_id = await write(values)
        except ApiError as error:
            errors = errors_of(error)
    if errors:
        return page(
            request, "qrs/form.html", nav="qrs", status=400, qr=qr, errors=errors, values=values
        )
    return go(request, f"/admin/qrs/{short_id}", ("success", done))


class QrPages(Controller):
    path = "/qrs"

    @get("/")
    async def list_qrs(
        self,
        request: Request,
        q: str | None = None,
        status: str | None = None,
        cursor: str | None = None,
    ) -> object:
        ctx = app_ctx(request)
        active = {"active": True, "inactive": False}.get(status or "")
        try:
            result = await links.list_qrs(
                ctx,
                current_user(request).id,
                cursor=cursor,
                limit=PAGE_SIZE,
                name=(q or "").strip() or None,
                is_active=active,
            )
        except ApiError:  # a stale or hand-edited cursor: start over
            return go(request, "/admin/qrs/")
        query = urlencode([(k, v) for k, v in (("q", q), ("status", status)) if v])
        return page(
            request,
            "qrs/list.html",
            nav="qrs",
            qrs=result.results,
            q=q or "",
            status=status or "",
            next_href=f"/admin/qrs/?{urlencode({'cursor': result.next})}"
            + (f"&{query}" if query else "")
            if result.next
            else None,
            prev_href=("/admin/qrs/" + (f"?{query}" if query else "")) if cursor else None,
        )

    @get("/new")
    async def new_qr(self, request: Request) -> object:
        return page(
            request,
            "qrs/form.html",
            nav="qrs",
            qr=None,
            errors={},
            values={"name": "", "destination_url": "", "is_active": True, "variants": []},
        )

    @post("/", status_code=200)
    async def create_qr(self, request: Request) -> object:
        ctx, user = app_ctx(request), current_user(request)

        async def create(values: dict[str, Any]) -> str:
            created = await links.create_qr(
                ctx,
                user,
                QrCreate(
                    destination_url=values["destination_url"],
                    name=values["name"],
                    variants=_variants_in(values) or None,
                ),
            )
            if not values["is_active"]:
                await links.update_qr(ctx, user.id, created.qr.short_id, QrPatch(is_active=False))
            return created.qr.short_id

        return await _save(
            request, None, create, "Dynamic QR created. Print it and share the link."
        )

    @get("/{short_id:str}")
    async def detail(
        self,
        request: Request,
        short_id: str,
        days: int = 30,
        bots: str = "exclude",
        scans_cursor: str | None = None,
    ) -> object:
        ctx = app_ctx(request)
        qr = await _owned(request, short_id)
        days = days if days in STAT_DAYS else 30
        bots = bots if bots in ("exclude", "include", "only") else "exclude"
        today = ctx.clock.now().astimezone(UTC).date()
        # The recent-scans table shows what the CSV button downloads: same period, same bots.
        filters = _scan_filters(today, days, bots)
        try:
            scans = await links.list_scans(
                ctx,
                current_user(request).id,
                short_id,
                filters,
                cursor=scans_cursor,
                limit=SCAN_PAGE_SIZE,
            )
        except ApiError:  # a stale or hand-edited cursor: the newest scans instead
            scans_cursor = None
            scans = await links.list_scans(
                ctx, current_user(request).id, short_id, filters, limit=SCAN_PAGE_SIZE
            )
        here = f"/admin/qrs/{short_id}?" + urlencode({"days": days, "bots": bots})
        stats = await links.qr_stats(
            ctx,
            current_user(request).id,
            short_id,
            date_from=today - timedelta(days=days - 1),
            date_to=today,
            bots=bots,
        )
        points = [(d.date, d.scans) for d in stats.per_day]
        chart = charts.responsive_chart(points, title=f"Scans per day, last {days} days")
        variant_counts = [{"value": v.label, "scans": v.scans} for v in stats.variants]
        city_counts = [
            {"value": f"{c.city}, {c.country}" if c.city else "", "scans": c.scans}
            for c in stats.cities
        ]
        return page(
            request,
            "qrs/detail.html",
            nav="qrs",
            qr=qr,
            stats=stats,
            chart=chart,
            days=days,
            bots=bots,
            variant_counts=variant_counts,
            city_counts=city_counts,
            stat_days=STAT_DAYS,
            download_sizes=DOWNLOAD_SIZES,
            default_download_size=DEFAULT_DOWNLOAD_SIZE,
            scans=scans.results,
            scans_next_href=f"{here}&{urlencode({'scans_cursor': scans.next})}#scans"
            if scans.next
            else None,
            scans_newest_href=f"{here}#scans" if scans_cursor else None,
            geoip_configured=bool(ctx.settings.geoip.database),
        )

    @get("/{short_id:str}/edit")
    async def edit_form(self, request: Request, short_id: str) -> object:
        qr = await _owned(request, short_id)
        values = {
            "name": qr.name,
            "destination_url": qr.destination_url,
            "is_active": qr.is_active,
            "variants": [msgspec.structs.asdict(v) for v in qr.variants],
        }
        return page(request, "qrs/form.html", nav="qrs", qr=qr, errors={}, values=values)

    @post("/{short_id:str}/edit", status_code=200)
    async def edit_submit(self, request: Request, short_id: str) -> object:
        ctx, user = app_ctx(request), current_user(request)
        qr = await _owned(request, short_id)

        async def update(values: dict[str, Any]) -> str:
            await links.update_qr(
                ctx,
                user.id,
                short_id,
                QrPatch(
                    name=values["name"],
                    destination_url=values["destination_url"],
                    is_active=values["is_active"],
                    variants=_variants_in(values),
                ),
            )
            return short_id

        return await _save(request, qr, update, "Changes saved.")

    @post("/{short_id:str}/active", status_code=303)
    async def set_active(self, request: Request, short_id: str) -> object:
        active = (await request.form()).get("active") == "yes"
        await _owned(request, short_id)
        await links.update_qr(
            app_ctx(request), current_user(request).id, short_id, QrPatch(is_active=active)
        )
        return go(
            request,
            f"/admin/qrs/{short_id}",
            (
                "success",
                "QR activated."
                if active
                else "QR deactivated: scanners now see “no longer active”.",
            ),
        )

    @post("/{short_id:str}/delete", status_code=303)
    async def delete(self, request: Request, short_id: str) -> object:
        qr = await _owned(request, short_id)
        await links.delete_qr(app_ctx(request), current_user(request).id, short_id)
        return go(request, "/admin/qrs/", ("success", f"“{qr.name or qr.short_id}” deleted."))

    @get("/{short_id:str}/image.svg")
    async def preview(self, request: Request, short_id: str) -> Response:
        qr = await _owned(request, short_id)
        options = parse_options({"data": qr.short_url, "format": "svg", "size": PREVIEW_SIZE})
        rendered = await app_ctx(request).renders.render(options)
        return Response(
            rendered.content,
            media_type=rendered.media_type,
            headers={"Cache-Control": "private, max-age=60"},
        )

    @get("/{short_id:str}/download")
    async def download(self, request: Request, short_id: str) -> object:
        qr = await _owned(request, short_id)
        params = request.query_params
        fmt = params.get("format") if params.get("format") in ("png", "svg") else "png"
        try:
            size = int(params.get("size") or DEFAULT_DOWNLOAD_SIZE)
        except ValueError:
            size = DEFAULT_DOWNLOAD_SIZE
        values: dict[str, Any] = {
            "data": qr.short_url,
            "format": fmt,
            "size": size,
            "error_correction": params.get("error_correction") or "M",
            "dark": params.get("dark") or "#000000",
            "light": "transparent"
            if checkbox(params.get("transparent"))
            else (params.get("light") or "#ffffff"),
        }
        try:
            options = parse_options(values, from_query=True)
            rendered = await app_ctx(request).renders.render(options)
        except OptionsError as error:
            return go(
                request, f"/admin/qrs/{short_id}", ("error", f"Download failed: {error.detail}")
            )
        filename = f"qr-{short_id}-{rendered.width}px.{fmt}"
        return Response(
            rendered.content,
            media_type=rendered.media_type,
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    @get("/{short_id:str}/scans.csv")
    async def scans_csv(
        self, request: Request, short_id: str, days: int = 30, bots: str = "exclude"
    ) -> Stream:
        ctx = app_ctx(request)
        await _owned(request, short_id)
        days = days if days in STAT_DAYS else 30
        today = ctx.clock.now().astimezone(UTC).date()
        filters = _scan_filters(today, days, bots)
        stream = await links.scans_csv(ctx, current_user(request).id, short_id, filters)
        return Stream(
            stream,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="scans-{short_id}-{days}d.csv"'},
        )


ROUTES = [QrPages]
