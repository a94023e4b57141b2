"""Branded domains: the rules that need I/O, and the in-memory map the redirect reads.

The API (domains/api.py), the CLI and the admin UI call the module-level async functions with
the AppContext; they raise ApiError (400 naming the field, 404 for a domain the workspace does
not have, 409 for a host name taken or a domain still in use, 403 plan_limit).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ..clock import iso_s
from ..context import AppContext
from ..db import Tx
from ..errors import ApiError, FieldProblems
from . import store
from .rules import (
    ACTIVE,
    DELETED,
    check_domain_limit,
    check_fallback_url,
    check_hostname,
    host_of,
    status_for_new,
)
from .schemas import AdminDomain, DnsRecord, Domain, DomainCreate, DomainPatch

log = logging.getLogger(__name__)


# -- the map: host name -> domain, read with no query -----------------------------------------


@dataclass(frozen=True, slots=True)
class DomainEntry:
    """All the redirect needs to know of a branded domain."""

    id: int
    workspace_id: int
    hostname: str
    status: str  # rules.PENDING, ACTIVE or DELETED
    fallback_url: str  # "": none (a neutral 404)

    @property
    def is_active(self) -> bool:
        """Serves its codes (and gets a certificate); pending and deleted ones serve nothing."""
        return self.status == ACTIVE


def entry_of(row: Any) -> DomainEntry:
    return DomainEntry(
        id=row["id"],
        workspace_id=row["workspace_id"],
        hostname=row["hostname"],
        status=row["status"],
        fallback_url=row["fallback_url"],
    )


class DomainMap:
    """`ctx.domains`: every branded domain by host name and by id, in memory.

    Loaded at start; each domain write refreshes its entry through `tx.on_commit` (after the
    commit, so a reader never sees a change that was rolled back), and the `domains-refresh`
    job rereads the table every REFRESH_SECONDS for the CLI's changes (another process).
    A host name maps to its live (pending or active) domain if there is one, else to the
    newest deleted one, whose host still answers only the neutral 404.
    """

    REFRESH_SECONDS = 10

    def __init__(self, public_url: str, scheme: str) -> None:
        # The appliance's own host (`[server] public_url`, lower case, no port): everything is
        # served there; any other Host is either a branded domain or unknown.
        self.public_host = host_of(public_url)
        self.scheme = scheme
        self._by_host: dict[str, DomainEntry] = {}
        self._by_id: dict[int, DomainEntry] = {}
        self._version = 0  # bumped by each remember(): a reload read before it is stale

    def by_host(self, host: str) -> DomainEntry | None:
        """The domain of a Host header's name (without its port), or None. Memory only; the
        exact lower-case name is one dict lookup, other spellings are folded first. The
        appliance's own host is never a branded domain, whatever a row says (a `public_url`
        moved onto a name a workspace holds keeps the admin UI and the default codes)."""
        entry = self._by_host.get(host)
        if entry is None and host:
            folded = host.lower().rstrip(".")
            if folded != host:
                entry = self._by_host.get(folded)
        if entry is not None and entry.hostname == self.public_host:
            return None
        return entry

    def by_id(self, domain_id: int) -> DomainEntry | None:
        """Any domain by id, deleted ones included (a QR's domain_id keeps its reference)."""
        return self._by_id.get(domain_id)

    def base_url(self, entry: DomainEntry) -> str:
        """`{scheme}://{hostname}`, with `[domains] scheme`: a QR on it prints this + /short_id."""
        return f"{self.scheme}://{entry.hostname}"

    def remember(self, entry: DomainEntry) -> None:
        """Keep a committed domain row (called after its commit)."""
        self._version += 1
        self._by_id[entry.id] = entry
        self._put(self._by_host, entry)

    @staticmethod
    def _put(by_host: dict[str, DomainEntry], entry: DomainEntry) -> None:
        current = by_host.get(entry.hostname)
        if (
            entry.status != DELETED
            or current is None
            or current.id == entry.id
            or (current.status == DELETED and current.id < entry.id)
        ):
            by_host[entry.hostname] = entry

    def replace_all(self, entries: Iterable[DomainEntry], version: int | None = None) -> bool:
        """Swap in a full reread (ordered by id). With `version` (read before the reread), a
        domain write committed meanwhile wins: the reread is dropped (False) for the next one."""
        if version is not None and version != self._version:
            return False
        by_host: dict[str, DomainEntry] = {}
        by_id: dict[int, DomainEntry] = {}
        for entry in entries:
            by_id[entry.id] = entry
            self._put(by_host, entry)
        self._by_host, self._by_id = by_host, by_id
        return True

    async def load(self, db: Any) -> bool:
        version = self._version
        rows = await db.read(store.all_domains)
        return self.replace_all([entry_of(row) for row in rows], version)


async def refresh_job(ctx: AppContext) -> None:
    """The scheduled reread: a failure is logged and retried at the next run, never fatal."""
    try:
        await ctx.domains.load(ctx.db)
    except Exception:
        log.exception("rereading the branded domains failed; it runs again in a few seconds")


def _remember_after_commit(ctx: AppContext, tx: Tx, domain_id: int) -> Any:
    """The committed row (read now, in the same transaction) goes into the map after COMMIT."""
    row = store.get_domain(tx.conn, domain_id)
    entry = entry_of(row)
    tx.on_commit(lambda: ctx.domains.remember(entry))
    return row


# -- for the links domain: a QR's domain -----------------------------------------------------


def active_domain(conn: sqlite3.Connection, workspace_id: int, hostname: str) -> DomainEntry | None:
    """The workspace's ACTIVE domain of that host name, read in the caller's transaction (the
    authority when a QR is put on it: a delete in flight is serialised by the one writer)."""
    row = store.find_live_by_hostname(conn, hostname.strip().lower())
    if row is None or row["workspace_id"] != workspace_id or row["status"] != ACTIVE:
        return None
    return entry_of(row)


# -- answers -------------------------------------------------------------------------------


def dns_record(ctx: AppContext, hostname: str) -> DnsRecord:
    return DnsRecord(type="CNAME", name=hostname, target=ctx.domains.public_host)


def _fields(ctx: AppContext, row: Any, qr_count: int) -> dict[str, Any]:
    return {
        "id": row["id"],
        "hostname": row["hostname"],
        "status": row["status"],
        "fallback_url": row["fallback_url"],
        "created_at": row["created_at"],
        "approved_at": row["approved_at"],
        "qr_count": qr_count,
        "dns": dns_record(ctx, row["hostname"]),
    }


def domain_out(ctx: AppContext, row: Any, qr_count: int) -> Domain:
    return Domain(**_fields(ctx, row, qr_count))


def admin_domain_out(ctx: AppContext, row: Any, qr_count: int) -> AdminDomain:
    return AdminDomain(workspace_id=row["workspace_id"], **_fields(ctx, row, qr_count))


def _not_found() -> ApiError:
    return ApiError(404, "No such domain")


def _taken(hostname: str) -> ApiError:
    return ApiError(
        409, f"hostname: {hostname} is already a branded domain on this box", field="hostname"
    )


# -- create / read / update / delete ---------------------------------------------------------


async def list_domains(ctx: AppContext, workspace_id: int) -> list[Domain]:
    def read(conn: sqlite3.Connection) -> tuple[list[Any], dict[int, int]]:
        rows = store.list_workspace_domains(conn, workspace_id)
        return rows, store.live_qr_counts(conn, [row["id"] for row in rows])

    rows, counts = await ctx.db.read(read)
    return [domain_out(ctx, row, counts[row["id"]]) for row in rows]


async def get_domain(ctx: AppContext, workspace_id: int, domain_id: int) -> Domain:
    def read(conn: sqlite3.Connection) -> tuple[Any, int]:
        row = store.get_workspace_domain(conn, workspace_id, domain_id)
        return row, store.live_qr_count(conn, domain_id) if row else 0

    row, count = await ctx.db.read(read)
    if row is None:
        raise _not_found()
    return domain_out(ctx, row, count)


async def create_domain(
    ctx: AppContext, workspace_id: int, plan_name: str, data: DomainCreate
) -> Domain:
    """Add a branded domain to the workspace: active at once, or pending approval
    (`[domains] require_approval`). 400 naming each wrong field, 403 plan_limit, 409 when the
    host name is already a live domain on this box (any workspace's)."""
    problems = FieldProblems()
    hostname = problems.check(check_hostname, "hostname", data.hostname, ctx.domains.public_host)
    fallback_url = problems.check(check_fallback_url, "fallback_url", data.fallback_url)
    problems.raise_if_any()
    settings = ctx.settings
    limit = settings.plan(plan_name).custom_domains
    status = status_for_new(settings.domains.require_approval)

    def create(tx: Tx) -> Any:
        check_domain_limit(plan_name, limit, store.count_live_domains(tx.conn, workspace_id))
        if store.find_live_by_hostname(tx.conn, hostname) is not None:
            raise _taken(hostname)
        try:
            domain_id = store.insert_domain(
                tx, workspace_id, hostname, fallback_url, status, iso_s(tx.clock.now())
            )
        except sqlite3.IntegrityError:  # the unique index: raced by nothing (one writer)
            raise _taken(hostname) from None
        return _remember_after_commit(ctx, tx, domain_id)

    row = await ctx.db.write(create)
    return domain_out(ctx, row, 0)


async def update_domain(
    ctx: AppContext, workspace_id: int, domain_id: int, patch: DomainPatch
) -> Domain:
    """Change the fallback URL ("" removes it)."""
    problems = FieldProblems()
    fallback_url = problems.check(check_fallback_url, "fallback_url", patch.fallback_url)
    problems.raise_if_any()

    def update(tx: Tx) -> tuple[Any, int]:
        if store.get_workspace_domain(tx.conn, workspace_id, domain_id) is None:
            raise _not_found()
        store.set_fallback_url(tx, domain_id, fallback_url)
        return _remember_after_commit(ctx, tx, domain_id), store.live_qr_count(tx.conn, domain_id)

    row, count = await ctx.db.write(update)
    return domain_out(ctx, row, count)


async def delete_domain(ctx: AppContext, workspace_id: int, domain_id: int) -> None:
    """Mark the domain deleted (its row stays: its host answers the neutral 404 from now on).
    409 while a QR that is not deleted uses it: its printed codes would stop working."""

    def delete(tx: Tx) -> None:
        row = store.get_workspace_domain(tx.conn, workspace_id, domain_id)
        if row is None:
            raise _not_found()
        in_use = store.live_qr_count(tx.conn, domain_id)
        if in_use:
            qrs, verb, their, them = (
                ("1 dynamic QR", "is", "its", "it")
                if in_use == 1
                else (f"{in_use} dynamic QRs", "are", "their", "them")
            )
            raise ApiError(
                409,
                f"{qrs} on {row['hostname']} {verb} not deleted; {their} printed codes would "
                f"stop working. Delete {them} first.",
            )
        store.mark_deleted(tx, domain_id, iso_s(tx.clock.now()))
        _remember_after_commit(ctx, tx, domain_id)

    await ctx.db.write(delete)


# -- the instance admin ------------------------------------------------------------------------


async def list_all_domains(ctx: AppContext, status: str | None = None) -> list[AdminDomain]:
    def read(conn: sqlite3.Connection) -> tuple[list[Any], dict[int, int]]:
        rows = store.list_all_domains(conn, status)
        return rows, store.live_qr_counts(conn, [row["id"] for row in rows])

    rows, counts = await ctx.db.read(read)
    return [admin_domain_out(ctx, row, counts[row["id"]]) for row in rows]


def approve_in(tx: Tx, domain_id: int) -> Any:
    """pending -> active in the caller's transaction (API and CLI); an active domain stays as
    it is. Raises ApiError 404 for no such domain (or a deleted one)."""
    row = store.get_domain(tx.conn, domain_id)
    if row is None or row["status"] == DELETED:
        raise _not_found()
    store.approve(tx, domain_id, iso_s(tx.clock.now()))
    return store.get_domain(tx.conn, domain_id)


async def approve_domain(ctx: AppContext, domain_id: int) -> AdminDomain:
    def approve(tx: Tx) -> tuple[Any, int]:
        approve_in(tx, domain_id)
        return _remember_after_commit(ctx, tx, domain_id), store.live_qr_count(tx.conn, domain_id)

    row, count = await ctx.db.write(approve)
    return admin_domain_out(ctx, row, count)
