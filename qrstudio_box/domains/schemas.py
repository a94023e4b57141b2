"""Branded domain shapes at the API's edge (msgspec)."""

from __future__ import annotations

from typing import Literal

from msgspec import Struct

DomainStatus = Literal["pending", "active", "deleted"]


class DomainCreate(Struct, forbid_unknown_fields=True):
    hostname: str
    fallback_url: str = ""


class DomainPatch(Struct, forbid_unknown_fields=True):
    fallback_url: str


class DnsRecord(Struct, kw_only=True):
    """The record the domain's owner creates at their DNS provider: a CNAME to this box."""

    type: Literal["CNAME"]
    name: str
    target: str


class Domain(Struct, kw_only=True):
    id: int
    hostname: str
    status: DomainStatus
    fallback_url: str
    created_at: str
    approved_at: str | None
    qr_count: int  # its dynamic QRs that are not deleted
    dns: DnsRecord


class AdminDomain(Domain, kw_only=True):
    """A domain in the instance admin's list: whose it is, too."""

    workspace_id: int


class DomainList(Struct):
    results: list[Domain]


class AdminDomainList(Struct):
    results: list[AdminDomain]
