"""Dynamic QRs, the redirect's scan recording, scans and stats: the rules that need I/O.

The API (links/api.py, qr/api.py) and the admin UI call the module-level async functions
below with the AppContext; they raise ApiError (400 naming the field, 404 for a QR the
caller does not own), so the UI shows exactly what the API would answer.
"""

from __future__ import annotations

import csv
import io
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET

from ..clientip import client_ip
from ..clock import from_unix_ms, iso_ms, iso_s, parse_iso, unix_ms
from ..context import AppContext
from ..db import Tx
from ..domains import service as domains
from ..domains.rules import DELETED
from ..domains.service import DomainEntry
from ..errors import ApiError, FieldProblems
from ..events import emit
from ..keyfiles import read_or_create
from ..pagination import check_limit, decode_cursor, encode_cursor
from ..quotas import service as quotas
from ..workspaces.schemas import Caller
from . import routing, store
from .geoip import GeoIP
from .period import day_from_number, day_number, stats_range
from .routing import CAPPED, LIVE, Rule, ScanFacts
from .rules import (
    BOT_FILTER,
    InputError,
    check_chosen_short_id,
    check_countries,
    check_destination,
    check_instant,
    check_lifecycle,
    check_name,
    check_rules,
    check_utm,
    check_variants,
)
from .schemas import (
    CityCount,
    Count,
    DayCount,
    PreviewOut,
    PreviewVariant,
    QrCreate,
    QrOut,
    QrPage,
    QrPatch,
    RuleIn,
    RuleOut,
    ScanOut,
    ScanPage,
    StatsOut,
    Totals,
    Utm,
    UtmDefaults,
    VariantCount,
    VariantIn,
    VariantOut,
)
from .shortid import could_be_short_id, looks_like_short_id, new_short_id
from .sketch import estimate_unique
from .useragent import cut_user_agent, parse_user_agent
from .variants import DEFAULT_LABEL, EXPIRED_LABEL, StickyVariants, Variant, scanner_hash

SALT_FILE = "scanner.salt"
# The "domain id" of the default host (public_url): branded domains' ids start at 1.
DEFAULT_HOST = 0
MAX_REFERER_CHARS = 1024
SHORT_ID_ATTEMPTS = 8
CSV_PAGE = 5000


def as_api_error(error: InputError) -> ApiError:
    return ApiError(400, error.detail, field=error.field)


# -- the redirect's view of a QR ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CachedQr:
    """All the redirect needs, compiled once per QR write: variants ready for the pick (never
    empty) and rules ready to match, their destinations with the QR's UTM already appended."""

    id: int
    short_id: str
    owner_id: int
    name: str
    destination_url: str
    is_active: bool
    deleted: bool
    variants: tuple[Variant, ...]
    rules: tuple[Rule, ...] = ()
    active_from_ms: int | None = None
    active_until_ms: int | None = None
    max_scans: int | None = None
    expired_url: str = ""
    forward_query: bool = False
    ended: bool = False  # dynamic_qr.updated has said it ended (ended_at is set)
    domain_id: int = DEFAULT_HOST  # its branded domain's id; DEFAULT_HOST: public_url's /r/

    @property
    def routes(self) -> bool:
        """Rules or a lifecycle to judge per scan (else straight to the variant pick)."""
        return bool(self.rules) or not (
            self.active_from_ms is None and self.active_until_ms is None and self.max_scans is None
        )

    @property
    def is_live(self) -> bool:
        """A scan of it is recorded and redirected: switched on and not deleted (else 410)."""
        return self.is_active and not self.deleted


def cached_qr(row: Any, variant_rows: Sequence[Any]) -> CachedQr:
    pairs = routing.utm_pairs(msgspec.json.decode(row["utm"]))

    def tagged(url: str) -> str:
        return routing.add_query(url, pairs) if pairs else url

    variants = tuple(
        Variant(v["label"], tagged(v["destination_url"]), v["weight"]) for v in variant_rows
    ) or (Variant(DEFAULT_LABEL, tagged(row["destination_url"]), 1),)
    rules = tuple(
        Rule(rule.label, tagged(rule.destination_url), rule.when)
        for rule in routing.compile_rules(msgspec.json.decode(row["rules"]))
    )
    return CachedQr(
        id=row["id"],
        short_id=row["short_id"],
        owner_id=row["owner_id"],
        name=row["name"],
        destination_url=row["destination_url"],
        is_active=bool(row["is_active"]),
        deleted=row["deleted_at"] is not None,
        variants=variants,
        rules=rules,
        active_from_ms=row["active_from_ms"],
        active_until_ms=row["active_until_ms"],
        max_scans=row["max_scans"],
        expired_url=row["expired_url"],
        forward_query=bool(row["forward_query"]),
        ended=row["ended_at"] is not None,
        domain_id=row["domain_id"] or DEFAULT_HOST,
    )


@dataclass(frozen=True, slots=True)
class Routed:
    """Where one scan goes: `destination_url` "" means the 410 "this code has ended" page."""

    label: str
    destination_url: str
    state: str = LIVE  # routing.LIVE, NOT_STARTED, ENDED or CAPPED
    rule_index: int | None = None


def load_or_create_salt(data_dir: Path) -> bytes:
    """The scanner-hash key, kept beside the database (not in it), generated on first start."""
    text = read_or_create(
        data_dir / SALT_FILE, lambda: (secrets.token_bytes(32).hex() + "\n").encode()
    )
    return bytes.fromhex(text.decode().strip())


class LinksService:
    """Process-wide state of the links domain (`ctx.links`): the redirect cache, sticky
    variants, GeoIP reader and scanner salt."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        # Each host's codes by short id: DEFAULT_HOST's (public_url/r/...) and each branded
        # domain's by its id, so a scan on either is one dict get after the Host's (no query).
        # A code lives on exactly one host: the one its short_url names.
        self.by_domain: dict[int, dict[str, CachedQr]] = {DEFAULT_HOST: {}}
        self.qrs = self.by_domain[DEFAULT_HOST]
        self.sticky = StickyVariants()
        self.geoip = GeoIP(ctx.settings.geoip.database or None)
        self.salt = load_or_create_salt(ctx.settings.data_dir)
        # Non-bot scans redirected per QR id (max_scans compares with it). Counted here when a
        # scan is routed, before its write is awaited, so concurrent scans of a capped code
        # cannot all see the last free place; loaded from the rollups at start. Only QRs with a
        # max_scans are counted (a scan of any other QR does not touch it); a write that gives
        # a QR its first max_scans loads its count from the rollups (remember).
        self.served: dict[int, int] = {}

    async def load(self) -> None:
        def read_all(conn: sqlite3.Connection) -> tuple[list[CachedQr], dict[int, int]]:
            rows = store.all_qrs_for_redirect(conn)
            variants = store.variants_of(conn, [row["id"] for row in rows])
            qrs = [cached_qr(row, variants[row["id"]]) for row in rows]
            capped_ids = {qr.id for qr in qrs if qr.max_scans is not None}
            served = store.served_counts(conn)
            return qrs, {qr_id: n for qr_id, n in served.items() if qr_id in capped_ids}

        qrs, self.served = await self.ctx.db.read(read_all)
        by_domain: dict[int, dict[str, CachedQr]] = {DEFAULT_HOST: {}}
        for qr in qrs:
            by_domain.setdefault(qr.domain_id, {})[qr.short_id] = qr
        self.by_domain, self.qrs = by_domain, by_domain[DEFAULT_HOST]

    def close(self) -> None:
        self.geoip.close()

    def lookup(self, short_id: str) -> CachedQr | None:
        """The default host's lookup (/r/{short_id}): memory only. Writes keep it current
        through on_commit. A code of a branded domain is not found here."""
        return self.qrs.get(short_id) if looks_like_short_id(short_id) else None

    def lookup_on(self, domain_id: int, short_id: str) -> CachedQr | None:
        """A branded domain's code (any shape a short id may have): memory only."""
        codes = self.by_domain.get(domain_id)
        return codes.get(short_id) if codes is not None else None

    def all_cached(self) -> Iterator[CachedQr]:
        for codes in self.by_domain.values():
            yield from codes.values()

    def remember(self, qr: CachedQr, served_in_store: int = 0) -> None:
        """Cache the committed QR. `served_in_store` (its non-bot redirected scans in the
        rollups, read in the write's transaction) seeds the cap count when the QR gets its
        first max_scans; a QR already counted keeps its in-memory count, which includes scans
        routed but not yet written."""
        codes = self.by_domain.setdefault(qr.domain_id, {})
        previous = codes.get(qr.short_id)
        if qr.max_scans is None:
            self.served.pop(qr.id, None)
        elif previous is None or previous.max_scans is None:
            self.served[qr.id] = served_in_store
        codes[qr.short_id] = qr
        if qr.deleted:
            self.sticky.forget_qr(qr.id)

    def state(self, qr: CachedQr, now_ms: int) -> str:
        """The code's lifecycle state now (LIVE, NOT_STARTED, ENDED or CAPPED)."""
        return routing.lifecycle_state(
            now_ms,
            qr.active_from_ms,
            qr.active_until_ms,
            qr.max_scans,
            self.served.get(qr.id, 0),
        )

    def route(self, qr: CachedQr, facts: ScanFacts) -> Routed | None:
        """Lifecycle, then the first matching rule; None: the variants (or destination) pick."""
        state = self.state(qr, facts.now_ms)
        if state != LIVE:
            return Routed(EXPIRED_LABEL, qr.expired_url, state)
        if qr.rules:
            found = routing.first_match(qr.rules, facts)
            if found is not None:
                index, rule = found
                return Routed(rule.label, rule.destination_url, LIVE, index)
        return None

    def preview(
        self,
        qr: CachedQr,
        peer: str | None,
        forwarded_for: Sequence[str],
        user_agent: str | None,
        accept_language: str | None = None,
        query_string: bytes = b"",
    ) -> Routed:
        """Where this scanner would go, recording and remembering nothing (HEAD)."""
        ip = client_ip(peer, forwarded_for, self.ctx.trusted_proxies)
        agent = cut_user_agent(user_agent)
        now = self.ctx.clock.now()
        facts = self._facts(qr, ip, agent, accept_language, unix_ms(now))
        routed = self.route(qr, facts)
        if routed is None:
            scanner = scanner_hash(self.salt, ip, agent)
            variant = self.sticky.peek(qr.id, qr.short_id, qr.variants, scanner, now.timestamp())
            routed = Routed(variant.label, variant.destination_url)
        return self._forward(qr, routed, query_string)

    def _facts(
        self, qr: CachedQr, ip: str, agent: str, accept_language: str | None, now_ms: int
    ) -> ScanFacts:
        family = parse_user_agent(agent)  # LRU-cached; the scan record needs it anyway
        return ScanFacts(
            now_ms=now_ms,
            # Geolocated only when a rule may ask (record_scan has it already otherwise).
            country=self.geoip.locate(ip).country if qr.rules else "",
            device=family.device_family,
            os=family.os_family,
            browser=family.browser_family,
            is_bot=family.is_bot,
            accept_language=accept_language,
        )

    @staticmethod
    def _forward(qr: CachedQr, routed: Routed, query_string: bytes) -> Routed:
        if not (qr.forward_query and query_string and routed.destination_url):
            return routed
        if routed.state != LIVE:
            return routed
        pairs = routing.forwarded_pairs(query_string)
        if not pairs:
            return routed
        url = routing.add_query(routed.destination_url, pairs)
        return Routed(routed.label, url, routed.state, routed.rule_index)

    async def record_scan(
        self,
        qr: CachedQr,
        peer: str | None,
        forwarded_for: Sequence[str],
        user_agent: str | None,
        referer: str | None,
        accept_language: str | None = None,
        query_string: bytes = b"",
    ) -> Routed:
        """Route the scan (lifecycle, rules, variants), record it and its event; returns once
        they committed. A scan outside the lifecycle is recorded with the label (expired)."""
        ip = client_ip(peer, forwarded_for, self.ctx.trusted_proxies)
        location = self.geoip.locate(ip)  # geolocate first; the IP itself is never stored
        agent = cut_user_agent(user_agent)
        family = parse_user_agent(agent)
        scanner = scanner_hash(self.salt, ip, agent)
        now = self.ctx.clock.now()
        now_ms = unix_ms(now)
        routed = None
        if qr.routes:
            facts = ScanFacts(
                now_ms,
                location.country,
                family.device_family,
                family.os_family,
                family.browser_family,
                family.is_bot,
                accept_language,
            )
            routed = self.route(qr, facts)
        if routed is None:
            variant = self.sticky.choose(qr.id, qr.short_id, qr.variants, scanner, now.timestamp())
            routed = Routed(variant.label, variant.destination_url)
        routed = self._forward(qr, routed, query_string)
        ends_by_cap = False
        counted = routed.state == LIVE and not family.is_bot and qr.max_scans is not None
        if counted:
            served = self.served[qr.id] = self.served.get(qr.id, 0) + 1
            ends_by_cap = qr.max_scans is not None and served == qr.max_scans
        referer = (referer or "")[:MAX_REFERER_CHARS]
        row = (
            qr.id,
            now_ms,
            routed.destination_url,
            routed.label,
            location.country,
            location.city,
            family.device_family,
            family.os_family,
            family.browser_family,
            referer,
            agent,
            int(family.is_bot),
            int.from_bytes(scanner[:8], "big", signed=True),
        )
        # scan.created data as docs/webhooks.md lists it, field for field, in its order.
        data = {
            "short_id": qr.short_id,
            "name": qr.name,
            "owner_id": qr.owner_id,
            "destination_url": routed.destination_url,
            "scanned_at": iso_ms(now),
            "country": location.country,
            "city": location.city,
            "device_family": family.device_family,
            "os_family": family.os_family,
            "browser_family": family.browser_family,
            "referer": referer,
            "user_agent": agent,
            "is_bot": family.is_bot,
            "variant_label": routed.label,
        }
        ending = (self.ctx, qr.id, "cap") if ends_by_cap else None
        try:
            await self.ctx.db.write_batched(write_scan, row, qr.owner_id, data, now, ending)
        except BaseException:
            if counted and qr.id in self.served:  # not recorded, so not served
                self.served[qr.id] -= 1
            raise
        return routed

    async def end_due(self) -> int:
        """Say "ended" (dynamic_qr.updated, once) for every code past its end or its cap that
        has not said so yet; the lifecycle job runs this every minute. Returns how many."""
        now_ms = unix_ms(self.ctx.clock.now())
        capped = [
            qr.id
            for qr in self.all_cached()
            if not qr.ended and not qr.deleted and self.state(qr, now_ms) == CAPPED
        ]
        ctx = self.ctx

        def end(tx: Tx) -> int:
            endings = [(qr_id, "time") for qr_id in store.qrs_past_end(tx.conn, now_ms)]
            endings += [(qr_id, "cap") for qr_id in capped]
            return sum(end_qr(ctx, qr_id, ended_by, tx=tx) for qr_id, ended_by in endings)

        return await ctx.db.write(end)


def write_scan(
    tx: Tx,
    row: Sequence[Any],
    owner_id: int,
    data: dict[str, Any],
    now: datetime,
    ending: tuple[AppContext, int, str] | None = None,
) -> None:
    """One scan and its event, inside the group-commit transaction; the rollups follow at commit.
    `ending` (ctx, qr id, "cap"): this scan reached the code's cap, so the code's end is said
    in the same commit."""
    store.insert_scan(tx, row)
    emit(tx, owner_id, "scan.created", data, created_at=now)
    if ending is not None:
        end_qr(*ending, tx=tx)


def end_qr(ctx: AppContext, qr_id: int, ended_by: str, *, tx: Tx) -> bool:
    """Mark the code ended and fire dynamic_qr.updated with `changed: ["status"]`, once: the
    UPDATE only takes a code that has not ended, whatever restarts or batches did before."""
    if not store.mark_ended(tx, qr_id, ended_by, iso_s(tx.clock.now())):
        return False
    row = store.get_qr_by_id(tx.conn, qr_id)
    variant_rows = store.variants_of(tx.conn, [qr_id])[qr_id]
    data = _updated_data(row, variant_rows, ["status"])
    data["status"] = "capped" if ended_by == "cap" else "ended"
    emit(tx, row["owner_id"], "dynamic_qr.updated", data)
    _after_commit_remember(ctx, tx, qr_id)
    return True


# -- QR answers -------------------------------------------------------------------------------


def short_url(ctx: AppContext, short_id: str, domain: str | None = None) -> str:
    """What a QR's images encode: `{scheme}://{domain}/{short_id}` on its branded domain
    (`[domains] scheme`), else the appliance's own `{public_url}/r/{short_id}`."""
    if domain:
        return f"{ctx.domains.scheme}://{domain}/{short_id}"
    return f"{ctx.settings.public_url}/r/{short_id}"


def qr_domain(ctx: AppContext, row: Any) -> str | None:
    """The hostname of a QR's branded domain (deleted ones stay in the map), or None."""
    domain_id = row["domain_id"]
    entry = ctx.domains.by_id(domain_id) if domain_id is not None else None
    return entry.hostname if entry is not None else None


def domain_problem(ctx: AppContext, owner_id: int, hostname: str) -> ApiError | None:
    """Why `hostname` cannot carry a new QR of this workspace (400 naming `domain`), or None:
    it must be one of its ACTIVE domains. Another workspace's domain reads as unknown."""
    host = hostname.strip().rstrip(".").lower()
    entry = ctx.domains.by_host(host) if host else None
    if entry is None or entry.workspace_id != owner_id or entry.status == DELETED:
        return ApiError(
            400,
            f"domain: {host or 'an empty name'} is not a domain of this workspace; add it"
            " under /api/v1/domains/ first",
            field="domain",
        )
    if not entry.is_active:
        return ApiError(
            400,
            f"domain: {host} is pending: it serves codes once an instance admin approves it",
            field="domain",
        )
    return None


def _check_domain(ctx: AppContext, owner_id: int, hostname: str) -> None:
    problem = domain_problem(ctx, owner_id, hostname)
    if problem is not None:
        raise problem


def _domain_in_tx(tx: Tx, ctx: AppContext, owner_id: int, data: QrCreate) -> DomainEntry:
    """In the create's transaction, the authority: the workspace's active domain (a change
    committed since the check above is seen here), and a chosen short id free on it and in
    the workspace (409 naming short_id)."""
    assert data.domain is not None
    domain = domains.active_domain(tx.conn, owner_id, data.domain.strip().rstrip("."))
    if domain is None:
        raise domain_problem(ctx, owner_id, data.domain) or ApiError(
            400, f"domain: {data.domain} is no longer active", field="domain"
        )
    short_id = data.short_id
    if short_id is None:
        return domain
    if store.short_id_taken_on(tx.conn, domain.id, short_id):
        raise ApiError(409, f"short_id: {short_id} is taken on {domain.hostname}", field="short_id")
    if store.get_owned_qr(tx.conn, owner_id, short_id) is not None:
        raise ApiError(
            409,
            f"short_id: {short_id} is already a code of this workspace (on another host), and"
            " /api/v1/dynamic-qrs/{short_id}/ must name one",
            field="short_id",
        )
    return domain


def _iso_or_none(millis: int | None) -> str | None:
    return None if millis is None else iso_s(from_unix_ms(millis))


def qr_status(ctx: AppContext, row: Any) -> str:
    if not row["is_active"]:
        return "inactive"
    served = ctx.links.served.get(row["id"], 0)
    now_ms = unix_ms(ctx.clock.now())
    return routing.lifecycle_state(
        now_ms, row["active_from_ms"], row["active_until_ms"], row["max_scans"], served
    )


def qr_out(ctx: AppContext, row: Any, variant_rows: Sequence[Any]) -> QrOut:
    domain = qr_domain(ctx, row)
    return QrOut(
        short_id=row["short_id"],
        short_url=short_url(ctx, row["short_id"], domain),
        domain=domain,
        name=row["name"],
        destination_url=row["destination_url"],
        is_active=bool(row["is_active"]),
        variants=[VariantOut(v["label"], v["destination_url"], v["weight"]) for v in variant_rows],
        scan_count=row["scan_count"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        rules=msgspec.json.decode(row["rules"], type=list[RuleOut]),
        active_from=_iso_or_none(row["active_from_ms"]),
        active_until=_iso_or_none(row["active_until_ms"]),
        max_scans=row["max_scans"],
        expired_url=row["expired_url"],
        utm=msgspec.json.decode(row["utm"], type=Utm),
        forward_query=bool(row["forward_query"]),
        status=qr_status(ctx, row),  # type: ignore[arg-type]
    )


# API field -> dynamic_qrs column, for the routing fields (migration 0007).
ROUTING_FIELDS = {
    "rules": "rules",
    "active_from": "active_from_ms",
    "active_until": "active_until_ms",
    "max_scans": "max_scans",
    "expired_url": "expired_url",
    "utm": "utm",
    "forward_query": "forward_query",
}
LIFECYCLE_COLUMNS = ("active_from_ms", "active_until_ms", "max_scans")


def _rules_json(rules: list[RuleIn] | None) -> list[dict[str, Any]]:
    """The rules as plain data (hours.from, not from_), for the pure checks."""
    return msgspec.to_builtins(rules or [])


def _check_routing(given: dict[str, Any]) -> dict[str, Any]:
    """The routing fields given (API names; None clears) as column values, each checked on
    its own; the checks across fields (labels, start before end) run in `_check_together`."""
    columns: dict[str, Any] = {}
    for name, value in given.items():
        if name == "rules":
            columns["rules"] = msgspec.json.encode(
                check_rules("rules", _rules_json(value))
            ).decode()
        elif name in ("active_from", "active_until"):
            columns[ROUTING_FIELDS[name]] = (
                None if value is None else unix_ms(check_instant(name, value))
            )
        elif name == "max_scans":
            check_lifecycle(None, None, value)
            columns["max_scans"] = value
        elif name == "expired_url":
            columns["expired_url"] = check_destination(name, value) if value else ""
        elif name == "utm":
            utm = check_utm("utm", msgspec.to_builtins(value) if value is not None else {})
            columns["utm"] = msgspec.json.encode(utm).decode()
        elif name == "forward_query":
            columns["forward_query"] = int(bool(value))
    return columns


def _check_together(columns: dict[str, Any], variant_labels: Sequence[str]) -> None:
    """The whole QR after the change: rule labels unlike variant labels, start before end."""
    start, end = columns.get("active_from_ms"), columns.get("active_until_ms")
    if start is not None and end is not None and start >= end:
        raise InputError("active_from", "must be before active_until")
    check_rules("rules", msgspec.json.decode(columns.get("rules") or "[]"), variant_labels)


def _variant_triples(field: str, variants: list[VariantIn] | None) -> list[tuple[str, str, int]]:
    return check_variants(field, [(v.label, v.destination_url, v.weight) for v in variants or []])


def _event_data(row: Any) -> dict[str, Any]:
    """dynamic_qr.created data: the fields of docs/webhooks.md, in its order."""
    return {
        "short_id": row["short_id"],
        "name": row["name"],
        "destination_url": row["destination_url"],
        "owner_id": row["owner_id"],
    }


def _updated_data(row: Any, variant_rows: Sequence[Any], changed: list[str]) -> dict[str, Any]:
    """dynamic_qr.updated data: the created fields, is_active, every variant, what changed."""
    data = _event_data(row)
    data["is_active"] = bool(row["is_active"])
    data["variants"] = [
        {"label": v["label"], "destination_url": v["destination_url"], "weight": v["weight"]}
        for v in variant_rows
    ]
    data["changed"] = changed
    return data


def _read_owned(conn: sqlite3.Connection, owner_id: int, short_id: str) -> tuple[Any, list[Any]]:
    row = store.get_owned_qr(conn, owner_id, short_id) if could_be_short_id(short_id) else None
    if row is None:
        raise ApiError(404, "No dynamic QR with that short_id")
    return row, store.variants_of(conn, [row["id"]])[row["id"]]


def _after_commit_remember(ctx: AppContext, tx: Tx, qr_id: int) -> None:
    """Refresh the redirect cache from the committed row (read now, in the same tx)."""
    row = store.get_qr_by_id(tx.conn, qr_id)
    qr = cached_qr(row, store.variants_of(tx.conn, [qr_id])[qr_id])
    # A scan routed before this commit but written after it is in neither count: at most one
    # group commit's worth, once, when a code gets its first cap (a restart recounts exactly).
    served = 0 if qr.max_scans is None else store.served_counts(tx.conn, qr_id).get(qr_id, 0)
    tx.on_commit(lambda: ctx.links.remember(qr, served))


# -- create / read / update / delete ------------------------------------------------------------


@dataclass(frozen=True)
class Created:
    qr: QrOut
    headers: dict[str, str]  # the quota's RateLimit-* headers for the answer


def check_create(
    data: QrCreate,
    *,
    destination_field: str = "destination_url",
    ctx: AppContext | None = None,
    owner_id: int = 0,
) -> tuple[str, str, list, dict[str, Any]]:
    """Validate everything before anything is charged or written (a 400 never counts).
    The routing columns leave out `utm` when the body did: the owner's defaults apply.
    `domain` is checked against the owner's domains when `ctx` is given."""
    given: dict[str, Any] = {
        "rules": data.rules,
        "active_from": data.active_from,
        "active_until": data.active_until,
        "max_scans": data.max_scans,
        "expired_url": data.expired_url,
        "forward_query": data.forward_query,
    }
    if data.utm is not UNSET:
        given["utm"] = data.utm
    # Every wrong field in one answer (issue 15.8), then the rules that need them all valid.
    problems = FieldProblems()
    name = problems.check(check_name, "name", data.name)
    destination = problems.check(check_destination, destination_field, data.destination_url)
    variants = problems.check(_variant_triples, "variants", data.variants)
    routing_columns = problems.check(_check_routing, given)
    if data.short_id is not None:
        problems.check(check_chosen_short_id, "short_id", data.short_id, data.domain is not None)
    if data.domain is not None and ctx is not None:
        problems.check(_check_domain, ctx, owner_id, data.domain)
    problems.raise_if_any()
    try:
        _check_together(routing_columns, [label for label, _, _ in variants])
    except InputError as error:
        raise as_api_error(error) from None
    return name, destination, variants, routing_columns


async def create_qr(
    ctx: AppContext, caller: Caller, data: QrCreate, *, destination_field: str = "destination_url"
) -> Created:
    """Create a dynamic QR for the caller's workspace: plan limit, one generation charged,
    dynamic_qr.created, all in one transaction. Raises ApiError 400 (field named), 403/429
    from the quota rules."""
    name, destination, variants, routing_columns = check_create(
        data, destination_field=destination_field, ctx=ctx, owner_id=caller.owner_id
    )
    settings = ctx.settings

    def create(tx: Tx) -> tuple[Any, list[Any], dict[str, str]]:
        owner_id = caller.owner_id
        domain = None if data.domain is None else _domain_in_tx(tx, ctx, owner_id, data)
        quotas.check_dynamic_qr_limit(caller, settings, store.count_live_qrs(tx.conn, owner_id))
        charge = quotas.charge_generation(tx, caller, settings, tx.clock.now())
        now = iso_s(tx.clock.now())
        domain_id = None if domain is None else domain.id
        if data.short_id is not None:
            qr_id = store.insert_qr(tx, owner_id, data.short_id, name, destination, now, domain_id)
        else:
            for _ in range(SHORT_ID_ATTEMPTS):
                short_id = new_short_id()
                if store.short_id_exists(tx.conn, short_id):
                    continue
                try:
                    qr_id = store.insert_qr(
                        tx, owner_id, short_id, name, destination, now, domain_id
                    )
                except sqlite3.IntegrityError:  # raced by nothing (one writer), but be sure
                    continue
                break
            else:
                raise ApiError(503, "Could not allocate a short id; please retry")
        store.replace_variants(tx, qr_id, variants)
        columns = dict(routing_columns)
        if "utm" not in columns:
            columns["utm"] = store.get_utm_defaults(tx.conn, caller.owner_id) or "{}"
        store.update_qr(tx, qr_id, columns, now)
        row = store.get_qr_by_id(tx.conn, qr_id)
        emit(tx, caller.owner_id, "dynamic_qr.created", _event_data(row))
        _after_commit_remember(ctx, tx, qr_id)
        return row, store.variants_of(tx.conn, [qr_id])[qr_id], dict(charge.headers)

    row, variant_rows, headers = await ctx.db.write(create)
    return Created(qr=qr_out(ctx, row, variant_rows), headers=headers)


async def get_qr(ctx: AppContext, owner_id: int, short_id: str) -> QrOut:
    row, variant_rows = await ctx.db.read(_read_owned, owner_id, short_id)
    return qr_out(ctx, row, variant_rows)


async def list_qrs(
    ctx: AppContext,
    owner_id: int,
    *,
    cursor: str | None = None,
    limit: int | None = None,
    name: str | None = None,
    is_active: bool | None = None,
) -> QrPage:
    """The owner's live QRs, newest first; `next` is the cursor of the following page."""
    size = check_limit(limit)
    key = decode_cursor(cursor)
    before = key[0] if key else None
    if before is not None and not isinstance(before, int):
        raise ApiError(400, "cursor: is not a cursor this server returned", field="cursor")

    def read(conn: sqlite3.Connection) -> tuple[list[Any], dict[int, list[Any]]]:
        rows = store.list_owned_qrs(conn, owner_id, size + 1, before, name, is_active)
        return rows, store.variants_of(conn, [row["id"] for row in rows[:size]])

    rows, variants = await ctx.db.read(read)
    page = rows[:size]
    return QrPage(
        results=[qr_out(ctx, row, variants[row["id"]]) for row in page],
        next=encode_cursor(page[-1]["id"]) if len(rows) > size else None,
    )


async def update_qr(ctx: AppContext, owner_id: int, short_id: str, patch: QrPatch) -> QrOut:
    """Apply the given fields; a real change fires dynamic_qr.updated (a no-op fires nothing).
    A change to the start, end or cap lets a code that had ended end again (and say so)."""
    checked: dict[str, Any] = {}
    problems = FieldProblems()  # every wrong field in one answer (issue 15.8)
    if patch.name is not UNSET:
        checked["name"] = problems.check(check_name, "name", patch.name)
    if patch.destination_url is not UNSET:
        checked["destination_url"] = problems.check(
            check_destination, "destination_url", patch.destination_url
        )
    if patch.is_active is not UNSET:
        checked["is_active"] = bool(patch.is_active)
    if patch.variants is not UNSET:
        checked["variants"] = problems.check(_variant_triples, "variants", patch.variants)
    given = {
        name: getattr(patch, name) for name in ROUTING_FIELDS if getattr(patch, name) is not UNSET
    }
    routing_columns = problems.check(_check_routing, given)
    problems.raise_if_any()
    by_column = {column: name for name, column in ROUTING_FIELDS.items()}

    def update(tx: Tx) -> tuple[Any, list[Any]]:
        row, variant_rows = _read_owned(tx.conn, owner_id, short_id)
        current = {
            "name": row["name"],
            "destination_url": row["destination_url"],
            "is_active": bool(row["is_active"]),
            "variants": [(v["label"], v["destination_url"], v["weight"]) for v in variant_rows],
        }
        changed = [field for field, value in checked.items() if current[field] != value]
        changed += [
            by_column[column] for column, value in routing_columns.items() if row[column] != value
        ]
        if not changed:
            return row, variant_rows
        after = {column: row[column] for column in ROUTING_FIELDS.values()}
        after.update(routing_columns)
        variants_after = checked.get("variants", current["variants"])
        try:
            _check_together(after, [label for label, _, _ in variants_after])
        except InputError as error:
            raise as_api_error(error) from None
        columns = {
            f: int(checked[f]) if f == "is_active" else checked[f]
            for f in changed
            if f in ("name", "destination_url", "is_active")
        }
        columns.update(routing_columns)
        # Only a lifecycle value that really changes re-judges the end: the routing form sends
        # every column on each save, and an unchanged one must not make the job say it again.
        if any(
            column in routing_columns and row[column] != routing_columns[column]
            for column in LIFECYCLE_COLUMNS
        ):
            columns["ended_at"] = None  # re-judged by the lifecycle job or the next scan
            columns["ended_by"] = ""
        store.update_qr(tx, row["id"], columns, iso_s(tx.clock.now()))
        if "variants" in changed:
            store.replace_variants(tx, row["id"], checked["variants"])
        row = store.get_qr_by_id(tx.conn, row["id"])
        variant_rows = store.variants_of(tx.conn, [row["id"]])[row["id"]]
        emit(tx, owner_id, "dynamic_qr.updated", _updated_data(row, variant_rows, changed))
        _after_commit_remember(ctx, tx, row["id"])
        return row, variant_rows

    row, variant_rows = await ctx.db.write(update)
    return qr_out(ctx, row, variant_rows)


async def delete_qr(ctx: AppContext, owner_id: int, short_id: str) -> None:
    """Soft delete: the QR leaves every list, its link answers 410, its short id stays taken."""

    def delete(tx: Tx) -> None:
        row, _ = _read_owned(tx.conn, owner_id, short_id)
        store.soft_delete_qr(tx, row["id"], iso_s(tx.clock.now()))
        _after_commit_remember(ctx, tx, row["id"])

    await ctx.db.write(delete)


# -- preview and UTM defaults -------------------------------------------------------------------

_STATE_REASONS = {
    routing.NOT_STARTED: "before active_from",
    routing.ENDED: "at or after active_until",
    routing.CAPPED: "max_scans reached (non-bot scans redirected)",
}


async def preview_qr(
    ctx: AppContext,
    owner_id: int,
    short_id: str,
    *,
    country: str | None = None,
    user_agent: str | None = None,
    language: str | None = None,
    at: str | None = None,
) -> PreviewOut:
    """Where a scan like the one described would go, and why, from the redirect's own cache
    and matcher; nothing is recorded or remembered. `language` is an Accept-Language value."""
    try:
        code = check_countries("country", [country])[0] if country else ""
        moment = check_instant("at", at) if at else ctx.clock.now()
    except InputError as error:
        raise as_api_error(error) from None
    row, _ = await ctx.db.read(_read_owned, owner_id, short_id)  # 404 unless the caller's
    service = ctx.links
    qr = service.lookup_on(row["domain_id"] or DEFAULT_HOST, short_id)
    if qr is None:
        raise ApiError(404, "No dynamic QR with that short_id")
    if not qr.is_live:
        return PreviewOut("inactive", 410, "", "", "the code is switched off (is_active false)")
    family = parse_user_agent(cut_user_agent(user_agent))
    facts = ScanFacts(
        unix_ms(moment),
        code,
        family.device_family,
        family.os_family,
        family.browser_family,
        family.is_bot,
        language or None,
    )
    routed = service.route(qr, facts)
    if routed is not None and routed.state != LIVE:
        reason = _STATE_REASONS[routed.state]
        if routed.destination_url:
            return PreviewOut(
                routed.state, 302, EXPIRED_LABEL, routed.destination_url, f"{reason}: expired_url"
            )  # type: ignore[arg-type]
        return PreviewOut(
            routed.state, 410, EXPIRED_LABEL, "", f"{reason}, no expired_url: the 410 page"
        )  # type: ignore[arg-type]
    if routed is not None:
        return PreviewOut(
            "rule",
            302,
            routed.label,
            routed.destination_url,
            f"rule {routed.rule_index + 1} ({routed.label}) is the first whose conditions hold",
            rule_index=routed.rule_index,
        )
    scanned_as = f"{family.device_family} / {family.os_family} / {family.browser_family}" + (
        ", a bot" if family.is_bot else ""
    )
    if len(qr.variants) > 1:
        return PreviewOut(
            "variants",
            302,
            qr.variants[0].label,
            qr.variants[0].destination_url,
            f"no rule matches ({scanned_as}): the weighted variant pick, sticky per scanner",
            variants=[PreviewVariant(v.label, v.destination_url, v.weight) for v in qr.variants],
        )
    only = qr.variants[0]
    why = "no rule matches" if qr.rules else "no rules"
    return PreviewOut(
        "destination" if only.label == DEFAULT_LABEL else "variants",
        302,
        only.label,
        only.destination_url,
        f"{why} ({scanned_as}): the destination",
    )


async def get_utm_defaults(ctx: AppContext, owner_id: int) -> UtmDefaults:
    stored = await ctx.db.read(store.get_utm_defaults, owner_id)
    return UtmDefaults(utm=msgspec.json.decode(stored or "{}", type=Utm))


async def put_utm_defaults(ctx: AppContext, owner_id: int, utm: Utm) -> UtmDefaults:
    """The owner's UTM values for codes created from now on (existing codes keep theirs)."""
    try:
        checked = check_utm("utm", msgspec.to_builtins(utm))
    except InputError as error:
        raise as_api_error(error) from None
    text = msgspec.json.encode(checked).decode()
    await ctx.db.write(lambda tx: store.put_utm_defaults(tx, owner_id, text, iso_s(tx.clock.now())))
    return UtmDefaults(utm=msgspec.json.decode(text, type=Utm))


# -- scans ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScanFilters:
    from_ms: int | None = None  # inclusive
    to_ms: int | None = None  # exclusive
    is_bot: bool | None = None
    country: str | None = None


def scan_out(row: Any) -> ScanOut:
    return ScanOut(
        id=row["id"],
        scanned_at=iso_ms(datetime.fromtimestamp(row["scanned_at"] / 1000, UTC)),
        destination_url=row["destination_url"],
        variant_label=row["variant_label"],
        country=row["country"],
        city=row["city"],
        device_family=row["device_family"],
        os_family=row["os_family"],
        browser_family=row["browser_family"],
        referer=row["referer"],
        user_agent=row["user_agent"],
        is_bot=bool(row["is_bot"]),
    )


async def list_scans(
    ctx: AppContext,
    owner_id: int,
    short_id: str,
    filters: ScanFilters = ScanFilters(),
    *,
    cursor: str | None = None,
    limit: int | None = None,
) -> ScanPage:
    size = check_limit(limit)
    key = decode_cursor(cursor, arity=2)
    if key is not None and not all(isinstance(part, int) for part in key):
        raise ApiError(400, "cursor: is not a cursor this server returned", field="cursor")
    before = (key[0], key[1]) if key else None

    def read(conn: sqlite3.Connection) -> list[Any]:
        row, _ = _read_owned(conn, owner_id, short_id)
        return store.list_scans(
            conn,
            row["id"],
            size + 1,
            before,
            filters.from_ms,
            filters.to_ms,
            filters.is_bot,
            filters.country,
        )

    rows = await ctx.db.read(read)
    page = rows[:size]
    last = page[-1] if page else None
    return ScanPage(
        results=[scan_out(row) for row in page],
        next=encode_cursor(last["scanned_at"], last["id"]) if len(rows) > size and last else None,
    )


CSV_COLUMNS = list(ScanOut.__struct_fields__)


async def scans_csv(
    ctx: AppContext, owner_id: int, short_id: str, filters: ScanFilters = ScanFilters()
) -> AsyncIterator[bytes]:
    """`stream = await scans_csv(...)`: ownership is checked now (ApiError 404 before any
    byte is sent), then `stream` yields every matching scan as CSV, newest first, page by
    page (constant memory, whatever the number of scans)."""
    qr_id = (await ctx.db.read(_read_owned, owner_id, short_id))[0]["id"]
    return _csv_pages(ctx, qr_id, filters)


async def _csv_pages(ctx: AppContext, qr_id: int, filters: ScanFilters) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    before: tuple[int, int] | None = None
    while True:
        rows = await ctx.db.read(
            store.list_scans,
            qr_id,
            CSV_PAGE,
            before,
            filters.from_ms,
            filters.to_ms,
            filters.is_bot,
            filters.country,
        )
        for row in rows:
            scan = scan_out(row)
            writer.writerow([_csv_cell(getattr(scan, column)) for column in CSV_COLUMNS])
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < CSV_PAGE:
            return
        before = (rows[-1]["scanned_at"], rows[-1]["id"])


def _csv_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    # A cell starting with = + - @ is a formula in spreadsheets; user agents and referers are
    # attacker-controlled, so such cells get a leading apostrophe.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# -- stats --------------------------------------------------------------------------------------


def _top(counts: dict[str, int], limit: int) -> list[tuple[str, int]]:
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]


async def qr_stats(
    ctx: AppContext,
    owner_id: int,
    short_id: str,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    bots: str = "exclude",
    top: int = 10,
) -> StatsOut:
    """Stats over whole UTC days from the rollups (never the scans table): totals, per day,
    top values per dimension (`top` each), every variant."""
    if bots not in BOT_FILTER:
        raise ApiError(400, "bots: must be exclude, include or only", field="bots")
    if not 1 <= top <= 100:
        raise ApiError(400, "top: must be between 1 and 100", field="top")
    today = ctx.clock.now().astimezone(UTC).date()

    def read(conn: sqlite3.Connection) -> tuple[Any, date, date, list, list, list]:
        row, variant_rows = _read_owned(conn, owner_id, short_id)
        created = parse_iso(row["created_at"]).astimezone(UTC).date()
        try:
            first, last = stats_range(date_from, date_to, created, today)
        except InputError as error:
            raise as_api_error(error) from None
        a, b = day_number(first), day_number(last)
        return (
            (row, variant_rows),
            first,
            last,
            store.rollup_counts(conn, row["id"], a, b),
            store.rollup_per_day(conn, row["id"], a, b, bots),
            store.sketch_registers(conn, row["id"], a, b, bots),
        )

    (row, variant_rows), first, last, counts, per_day_rows, registers = await ctx.db.read(read)
    wanted = BOT_FILTER[bots]
    by_dimension: dict[str, dict[str, int]] = {}
    bot_scans = 0
    for item in counts:
        if item["dimension"] == "variant" and item["is_bot"] == 1:
            bot_scans += item["scans"]
        if item["is_bot"] in wanted:
            values = by_dimension.setdefault(item["dimension"], {})
            values[item["value"]] = values.get(item["value"], 0) + item["scans"]
    variant_counts = by_dimension.get("variant", {})
    per_day = {r["day"]: r["scans"] for r in per_day_rows}
    # Current rules, then current variants (in their order, zero when unscanned), then
    # retired labels and (expired): a rule's label counts its scans like a variant's.
    labels = [rule["label"] for rule in msgspec.json.decode(row["rules"])]
    labels += [v["label"] for v in variant_rows] or [DEFAULT_LABEL]
    labels += sorted(set(variant_counts) - set(labels))

    def counts_of(dimension: str) -> list[Count]:
        return [Count(value, n) for value, n in _top(by_dimension.get(dimension, {}), top)]

    cities = []
    for value, n in _top(by_dimension.get("city", {}), top):
        country, _, city = value.partition("\t")
        cities.append(CityCount(country=country, city=city, scans=n))
    return StatsOut(
        short_id=row["short_id"],
        date_from=first.isoformat(),
        date_to=last.isoformat(),
        bots=bots,  # type: ignore[arg-type]
        totals=Totals(
            scans=sum(variant_counts.values()),
            unique_scanners=estimate_unique(registers),
            bots=bot_scans,
        ),
        per_day=[
            DayCount(date=day_from_number(day).isoformat(), scans=per_day.get(day, 0))
            for day in range(day_number(first), day_number(last) + 1)
        ],
        countries=counts_of("country"),
        cities=cities,
        device_families=counts_of("device"),
        os_families=counts_of("os"),
        browser_families=counts_of("browser"),
        referers=counts_of("referer"),
        variants=[
            VariantCount(label=label, scans=variant_counts.get(label, 0)) for label in labels
        ],
    )


# -- owner-wide figures (dashboard, usage) -------------------------------------------------------


async def owner_scans_per_day(
    ctx: AppContext, owner_id: int, days: int = 30, *, bots: str = "exclude"
) -> list[DayCount]:
    """Scans per UTC day over all the owner's QRs, the last `days` days up to today, zeros
    included (the dashboard chart; sum the tail for today / 7 days / 30 days)."""
    today = ctx.clock.now().astimezone(UTC).date()
    first = today - timedelta(days=days - 1)
    rows = await ctx.db.read(
        store.owner_scans_per_day, owner_id, day_number(first), day_number(today), bots
    )
    found = {r["day"]: r["scans"] for r in rows}
    return [
        DayCount(date=day_from_number(day).isoformat(), scans=found.get(day, 0))
        for day in range(day_number(first), day_number(today) + 1)
    ]


async def top_qrs(ctx: AppContext, owner_id: int, limit: int = 5) -> list[QrOut]:
    """The owner's QRs with the most scans (all time, bots included)."""

    def read(conn: sqlite3.Connection) -> tuple[list[Any], dict[int, list[Any]]]:
        rows = store.top_qrs(conn, owner_id, limit)
        return rows, store.variants_of(conn, [row["id"] for row in rows])

    rows, variants = await ctx.db.read(read)
    return [qr_out(ctx, row, variants[row["id"]]) for row in rows]


def scans_in_period(conn: sqlite3.Connection, owner_id: int, period: str) -> int:
    """Scans of the owner's QRs in the month "2026-05" (sync: usable in db.read or a tx)."""
    return store.scans_in_period(conn, owner_id, period)
