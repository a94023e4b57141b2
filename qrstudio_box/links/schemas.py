"""Dynamic QR shapes at the API's edge (msgspec Structs in and out)."""

from __future__ import annotations

from typing import Literal

from msgspec import UNSET, Struct, UnsetType, field


class VariantIn(Struct, forbid_unknown_fields=True):
    # Defaults only so that a missing label or URL is reported by our rules, which name the
    # field with its full path (variants[0].label); both are required.
    label: str = ""
    destination_url: str = ""
    weight: int = 1


class VariantOut(Struct):
    label: str
    destination_url: str
    weight: int


class QrCreate(Struct, forbid_unknown_fields=True):
    destination_url: str
    name: str = ""
    variants: list[VariantIn] | None = None


class QrPatch(Struct, forbid_unknown_fields=True):
    """Only the fields given change; `variants: null` or `[]` removes every variant."""

    name: str | UnsetType = UNSET
    destination_url: str | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    variants: list[VariantIn] | None | UnsetType = UNSET


class QrOut(Struct):
    short_id: str
    short_url: str
    name: str
    destination_url: str
    is_active: bool
    variants: list[VariantOut]
    scan_count: int
    created_at: str
    updated_at: str


class QrPage(Struct):
    results: list[QrOut]
    next: str | None


class ScanOut(Struct):
    id: int
    scanned_at: str
    destination_url: str
    variant_label: str
    country: str
    city: str
    device_family: str
    os_family: str
    browser_family: str
    referer: str
    user_agent: str
    is_bot: bool


class ScanPage(Struct):
    results: list[ScanOut]
    next: str | None


BotsMode = Literal["exclude", "include", "only"]


class Count(Struct):
    value: str
    scans: int


class CityCount(Struct):
    country: str
    city: str
    scans: int


class DayCount(Struct):
    date: str  # "2026-05-09"
    scans: int


class VariantCount(Struct):
    label: str
    scans: int


class Totals(Struct):
    scans: int  # scans counted under the bots mode
    unique_scanners: int  # HyperLogLog estimate: exact for small counts, about 3% beyond
    bots: int  # bot scans in the range, whatever the mode


class StatsOut(Struct):
    short_id: str
    date_from: str = field(name="from")  # first UTC day counted, "2026-05-01"
    date_to: str = field(name="to")  # last UTC day counted, inclusive
    bots: BotsMode
    totals: Totals
    per_day: list[DayCount]
    countries: list[Count]
    cities: list[CityCount]
    device_families: list[Count]
    os_families: list[Count]
    browser_families: list[Count]
    referers: list[Count]
    variants: list[VariantCount]


class GenerateOut(Struct):
    """The JSON answer of POST /generate/ (Accept: application/json)."""

    data_uri: str
    media_type: str
    format: str
    width: int
    height: int
    version: int
    error_correction: str
    data: str  # what the QR encodes (the short link for a dynamic QR)
    data_type: str
    short_id: str | None = None
    short_url: str | None = None
