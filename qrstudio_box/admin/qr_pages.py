"""Dynamic QR pages: list, create/edit with variants, detail with preview, downloads, stats, CSV.

Every rule and query is the links domain's (links.service); this module only turns forms into
its inputs and its answers into pages.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Stream

from ..clock import unix_ms
from ..domains import service as domains
from ..errors import ApiError
from ..links import service as links
from ..links.routing import WEEKDAYS
from ..links.rules import BOT_FILTER, bot_flag
from ..links.schemas import QrCreate, QrPatch, RuleIn, RuleOut, Utm, VariantIn
from ..qr.render import OptionsError, parse_options
from . import charts
from .forms import as_instant, checkbox, parse_rules, parse_variants, rule_rows
from .ui import app_ctx, current_workspace, errors_of, go, page

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
        # Create only: the branded domain (its hostname; "" for this box) and a chosen short id.
        "domain": (form.get("domain") or "").strip(),
        "short_id": (form.get("short_id") or "").strip(),
    }
    return values, errors


async def _domain_choices(request: Request) -> list[str]:
    """The hostnames a new QR may print on: the workspace's active branded domains."""
    listed = await domains.list_domains(app_ctx(request), current_workspace(request).owner_id)
    return [d.hostname for d in listed if d.status == "active"]


def _scan_filters(today: date, days: int, bots: str) -> links.ScanFilters:
    """The last `days` whole UTC days up to today; bots excluded, included or only."""
    start = datetime.combine(today - timedelta(days=days - 1), time.min, tzinfo=UTC)
    flag = bot_flag(bots)
    return links.ScanFilters(from_ms=unix_ms(start), is_bot=None if flag is None else bool(flag))


def _variants_in(values: dict[str, Any]) -> list[VariantIn]:
    return [
        VariantIn(label=v["label"], destination_url=v["destination_url"], weight=v["weight"])
        for v in values["variants"]
    ]


async def _owned(request: Request, short_id: str):
    try:
        return await links.get_qr(app_ctx(request), current_workspace(request).owner_id, short_id)
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
    if errors:
        # The form's own errors (a weight that is no number) and every other wrong field at
        # once: the domain's checks run over the rest, nothing is written.
        whole = [
            {**v, "weight": v["weight"] if isinstance(v["weight"], int) else 1}
            for v in values["variants"]
        ]
        try:
            links.check_create(
                QrCreate(
                    destination_url=values["destination_url"],
                    name=values["name"],
                    domain=values["domain"] or None if qr is None else None,
                    short_id=values["short_id"] or None if qr is None else None,
                    variants=_variants_in({"variants": whole}) or None,
                )
            )
        except ApiError as error:
            errors = {**errors_of(error), **errors}
    else:
        try:
            short_id = await write(values)
        except ApiError as error:
            errors = errors_of(error)
    if errors:
        return page(
            request,
            "qrs/form.html",
            nav="qrs",
            status=400,
            qr=qr,
            errors=errors,
            values=values,
            domain_choices=await _domain_choices(request) if qr is None else [],
        )
    return go(request, f"/admin/qrs/{short_id}", ("success", done))


PREVIEW_AGENTS = {
    "iphone": (
        "iPhone (Safari)",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    ),
    "android": (
        "Android (Chrome)",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/124.0.0.0 Mobile Safari/537.36",
    ),
    "desktop": (
        "Desktop (Firefox)",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0",
    ),
    "bot": ("A bot (Googlebot)", "Mozilla/5.0 (compatible; Googlebot/2.1)"),
}


def _rule_errors(error: ApiError) -> str:
    """'rules[1].when.country: ...' -> 'Rule 2, when.country: ...' (people count from one)."""
    return re.sub(r"rules\[(\d+)\]\.?", lambda m: f"Rule {int(m[1]) + 1}, ", str(error.detail))


def _routing_values(qr: Any) -> dict[str, Any]:
    return {
        "rules": rule_rows(qr.rules),
        "active_from": (qr.active_from or "")[:16],
        "active_until": (qr.active_until or "")[:16],
        "max_scans": qr.max_scans or "",
        "expired_url": qr.expired_url,
        "utm": msgspec.structs.asdict(qr.utm),
        "forward_query": qr.forward_query,
    }


async def _seen_values(request: Request, short_id: str) -> dict[str, list[str]]:
    """The countries, devices, OSes and browsers this QR's scans had: the editor offers them."""
    stats = await links.qr_stats(
        app_ctx(request), current_workspace(request).owner_id, short_id, bots="include", top=100
    )
    return {
        "country": [c.value for c in stats.countries if c.value],
        "device": [c.value for c in stats.device_families if c.value not in ("", "Other")],
        "os": [c.value for c in stats.os_families if c.value not in ("", "Other")],
        "browser": [c.value for c in stats.browser_families if c.value not in ("", "Other")],
    }


async def _preview(request: Request, qr: Any) -> tuple[dict[str, str], Any, str]:
    """The detail page's preview form (GET p_*): its values, the answer, or an error."""
    query = request.query_params
    asked = {
        name: (query.get(f"p_{name}") or "").strip()
        for name in ("country", "agent", "language", "at")
    }
    if not any(asked.values()):
        return asked, None, ""
    agent = PREVIEW_AGENTS.get(asked["agent"], ("", asked["agent"]))[1]
    try:
        answer = await links.preview_qr(
            app_ctx(request),
            current_workspace(request).owner_id,
            qr.short_id,
            country=asked["country"] or None,
            user_agent=agent or None,
            language=asked["language"] or None,
            at=as_instant(asked["at"]) or None,
        )
    except ApiError as error:
        return asked, None, str(error.detail)
    return asked, answer, ""


# Pages that change a QR need the editor role in the workspace (as the API's QR writes do).
EDITOR = {"role": "editor"}


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
                current_workspace(request).owner_id,
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

    @get("/new", opt=EDITOR)
    async def new_qr(self, request: Request) -> object:
        return page(
            request,
            "qrs/form.html",
            nav="qrs",
            qr=None,
            errors={},
            values={
                "name": "",
                "destination_url": "",
                "is_active": True,
                "variants": [],
                "domain": "",
                "short_id": "",
            },
            domain_choices=await _domain_choices(request),
        )

    @post("/", status_code=200, opt=EDITOR)
    async def create_qr(self, request: Request) -> object:
        ctx, caller = app_ctx(request), current_workspace(request)

        async def create(values: dict[str, Any]) -> str:
            created = await links.create_qr(
                ctx,
                caller,
                QrCreate(
                    destination_url=values["destination_url"],
                    name=values["name"],
                    domain=values["domain"] or None,
                    short_id=values["short_id"] or None,
                    variants=_variants_in(values) or None,
                ),
            )
            if not values["is_active"]:
                await links.update_qr(
                    ctx, caller.owner_id, created.qr.short_id, QrPatch(is_active=False)
                )
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
        bots = bots if bots in BOT_FILTER else "exclude"
        today = ctx.clock.now().astimezone(UTC).date()
        # The recent-scans table shows what the CSV button downloads: same period, same bots.
        filters = _scan_filters(today, days, bots)
        try:
            scans = await links.list_scans(
                ctx,
                current_workspace(request).owner_id,
                short_id,
                filters,
                cursor=scans_cursor,
                limit=SCAN_PAGE_SIZE,
            )
        except ApiError:  # a stale or hand-edited cursor: the newest scans instead
            scans_cursor = None
            scans = await links.list_scans(
                ctx, current_workspace(request).owner_id, short_id, filters, limit=SCAN_PAGE_SIZE
            )
        here = f"/admin/qrs/{short_id}?" + urlencode({"days": days, "bots": bots})
        stats = await links.qr_stats(
            ctx,
            current_workspace(request).owner_id,
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
        preview_asked, preview_answer, preview_error = await _preview(request, qr)
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
            preview_asked=preview_asked,
            preview_answer=preview_answer,
            preview_error=preview_error,
            preview_agents=PREVIEW_AGENTS,
        )

    @get("/{short_id:str}/routing", opt=EDITOR)
    async def routing_form(self, request: Request, short_id: str) -> object:
        qr = await _owned(request, short_id)
        return page(
            request,
            "qrs/routing.html",
            nav="qrs",
            qr=qr,
            error="",
            values=_routing_values(qr),
            seen=await _seen_values(request, short_id),
            weekdays=WEEKDAYS,
        )

    @post("/{short_id:str}/routing", status_code=200, opt=EDITOR)
    async def routing_submit(self, request: Request, short_id: str) -> object:
        """Rules (in the editor's order), the lifecycle, UTM and query forwarding, in one
        PATCH: what the API would answer is what the page shows."""
        ctx, caller = app_ctx(request), current_workspace(request)
        qr = await _owned(request, short_id)
        form = await request.form()
        rules = parse_rules(lambda name: form.getall(name, []))
        utm = {key: (form.get(f"utm_{key}") or "").strip() for key in Utm.__struct_fields__}
        values = {
            "rules": rules,
            "active_from": (form.get("active_from") or "").strip(),
            "active_until": (form.get("active_until") or "").strip(),
            "max_scans": (form.get("max_scans") or "").strip(),
            "expired_url": (form.get("expired_url") or "").strip(),
            "utm": utm,
            "forward_query": checkbox(form.get("forward_query")),
        }
        error = ""
        try:
            max_scans = values["max_scans"]
            if max_scans and not max_scans.isdigit():
                raise ApiError(400, "max_scans: must be a whole number", field="max_scans")
            patch = QrPatch(
                rules=msgspec.convert(rules, list[RuleIn]),
                active_from=as_instant(values["active_from"]) or None,
                active_until=as_instant(values["active_until"]) or None,
                max_scans=int(max_scans) if max_scans else None,
                expired_url=values["expired_url"],
                utm=Utm(**{key: value for key, value in utm.items() if value}),
                forward_query=values["forward_query"],
            )
            await links.update_qr(ctx, caller.owner_id, short_id, patch)
        except msgspec.ValidationError as invalid:
            error = f"Rules: {invalid}"
        except ApiError as failed:
            error = _rule_errors(failed)
        if error:
            try:  # the rows as typed, through the same mapping as a saved QR's
                values["rules"] = rule_rows(msgspec.convert(rules, list[RuleOut]))
            except msgspec.ValidationError:
                values["rules"] = []
            return page(
                request,
                "qrs/routing.html",
                nav="qrs",
                status=400,
                qr=qr,
                error=error,
                values=values,
                seen=await _seen_values(request, short_id),
                weekdays=WEEKDAYS,
            )
        return go(request, f"/admin/qrs/{short_id}", ("success", "Routing saved."))

    @get("/{short_id:str}/edit", opt=EDITOR)
    async def edit_form(self, request: Request, short_id: str) -> object:
        qr = await _owned(request, short_id)
        values = {
            "name": qr.name,
            "destination_url": qr.destination_url,
            "is_active": qr.is_active,
            "variants": [msgspec.structs.asdict(v) for v in qr.variants],
        }
        return page(request, "qrs/form.html", nav="qrs", qr=qr, errors={}, values=values)

    @post("/{short_id:str}/edit", status_code=200, opt=EDITOR)
    async def edit_submit(self, request: Request, short_id: str) -> object:
        ctx, caller = app_ctx(request), current_workspace(request)
        qr = await _owned(request, short_id)

        async def update(values: dict[str, Any]) -> str:
            await links.update_qr(
                ctx,
                caller.owner_id,
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

    @post("/{short_id:str}/active", status_code=303, opt=EDITOR)
    async def set_active(self, request: Request, short_id: str) -> object:
        active = (await request.form()).get("active") == "yes"
        await _owned(request, short_id)
        await links.update_qr(
            app_ctx(request),
            current_workspace(request).owner_id,
            short_id,
            QrPatch(is_active=active),
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

    @post("/{short_id:str}/delete", status_code=303, opt=EDITOR)
    async def delete(self, request: Request, short_id: str) -> object:
        qr = await _owned(request, short_id)
        await links.delete_qr(app_ctx(request), current_workspace(request).owner_id, short_id)
        return go(request, "/admin/qrs/", ("success", f"“{qr.name or qr.short_id}” deleted."))

    @get("/{short_id:str}/image.svg", opt={"rate_limit": True})
    async def preview(self, request: Request, short_id: str) -> Response:
        qr = await _owned(request, short_id)
        options = parse_options({"data": qr.short_url, "format": "svg", "size": PREVIEW_SIZE})
        rendered = await app_ctx(request).renders.render(options)
        return Response(
            rendered.content,
            media_type=rendered.media_type,
            headers={"Cache-Control": "private, max-age=60"},
        )

    @get("/{short_id:str}/download", opt={"rate_limit": True})
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
        stream = await links.scans_csv(ctx, current_workspace(request).owner_id, short_id, filters)
        return Stream(
            stream,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="scans-{short_id}-{days}d.csv"'},
        )


ROUTES = [QrPages]
