"""Dynamic QR shapes at the API's edge (msgspec Structs in and out)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import UNSET, Meta, Struct, UnsetType, field


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


class HoursIn(Struct, forbid_unknown_fields=True):
    """Local time of day in an IANA zone; `to` before `from` runs past midnight."""

    from_: str = field(default="", name="from")  # "09:00"
    to: str = ""  # "17:00" (exclusive; "24:00" is the end of the day)
    tz: str = ""  # "Europe/Paris"


class BetweenIn(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """ISO 8601 instants with an offset: `from` inclusive, `to` exclusive, either optional."""

    from_: str | None = field(default=None, name="from")
    to: str | None = None


class When(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """A rule's conditions: all given must hold; an unknown value (no GeoIP database, no
    Accept-Language) never matches a condition on it. `{}` matches every scan."""

    country: Annotated[
        list[str] | None, Meta(description='ISO 3166-1 alpha-2 codes ("CA"), from GeoIP')
    ] = None
    device: Annotated[
        list[str] | None,
        Meta(description='ua-parser device families, as scans record them ("iPhone")'),
    ] = None
    os: Annotated[
        list[str] | None, Meta(description='ua-parser OS families ("iOS", "Android")')
    ] = None
    browser: Annotated[
        list[str] | None, Meta(description='ua-parser browser families ("Chrome Mobile")')
    ] = None
    language: Annotated[
        list[str] | None, Meta(description='primary language tags of Accept-Language ("fr")')
    ] = None
    weekdays: Annotated[
        list[str] | None,
        Meta(description='"mon" ... "sun", read in hours.tz (in UTC when there are no hours)'),
    ] = None
    hours: HoursIn | None = None
    between: BetweenIn | None = None
    bots: Annotated[bool | None, Meta(description="true: only bots; false: only people")] = None


class RuleIn(Struct, forbid_unknown_fields=True):
    # Defaults only so that our rules name a missing field with its path (rules[0].label).
    label: str = ""
    destination_url: str = ""
    when: When = field(default_factory=When)


class RuleOut(Struct):
    label: str
    destination_url: str
    when: When


class Utm(Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Appended as utm_source=... to the chosen destination, never over its own parameters."""

    source: str | None = None
    medium: str | None = None
    campaign: str | None = None
    term: str | None = None
    content: str | None = None


class QrCreate(Struct, forbid_unknown_fields=True):
    destination_url: str
    name: str = ""
    domain: Annotated[
        str | None,
        Meta(
            description="One of the workspace's active branded domains (its hostname): the"
            " short_url is then https://{domain}/{short_id}. Set at creation only: a printed"
            " code keeps its URL. Left out: the appliance's own {public_url}/r/{short_id}"
        ),
    ] = None
    short_id: Annotated[
        str | None,
        Meta(
            description="With a domain only: the code's own short id (3-64 of A-Z a-z 0-9 _ -,"
            " not a reserved word), unique on that domain and in the workspace, e.g. a code"
            " printed under another shortener. Left out: 8 random characters"
        ),
    ] = None
    variants: list[VariantIn] | None = None
    rules: Annotated[
        list[RuleIn] | None,
        Meta(description="At most 50; the first whose `when` holds picks the destination"),
    ] = None
    active_from: Annotated[
        str | None, Meta(description="ISO 8601 instant; before it, scans go to expired_url")
    ] = None
    active_until: Annotated[
        str | None, Meta(description="ISO 8601 instant (exclusive); then the code has ended")
    ] = None
    max_scans: Annotated[
        int | None, Meta(description="Non-bot scans redirected; then the code has ended")
    ] = None
    expired_url: Annotated[
        str, Meta(description='Where scans go outside the lifecycle ("": a 410 page)')
    ] = ""
    # Left out: the owner's UTM defaults (GET /api/v1/settings/utm/); {} for none.
    utm: Annotated[
        Utm | UnsetType,
        Meta(description="Left out: the owner's defaults (/api/v1/settings/utm/); {}: none"),
    ] = UNSET
    forward_query: Annotated[
        bool, Meta(description="Pass the scan URL's own query string on to the destination")
    ] = False


class QrPatch(Struct, forbid_unknown_fields=True):
    """Only the fields given change; `variants: null` or `[]` removes every variant."""

    name: str | UnsetType = UNSET
    destination_url: str | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET
    variants: list[VariantIn] | None | UnsetType = UNSET
    rules: list[RuleIn] | None | UnsetType = UNSET
    active_from: str | None | UnsetType = UNSET
    active_until: str | None | UnsetType = UNSET
    max_scans: int | None | UnsetType = UNSET
    expired_url: str | None | UnsetType = UNSET
    utm: Utm | None | UnsetType = UNSET
    forward_query: bool | UnsetType = UNSET


QrStatus = Literal["live", "not_started", "ended", "capped", "inactive"]


class QrOut(Struct):
    short_id: str
    short_url: str  # what its images encode: https://{domain}/{short_id} or .../r/{short_id}
    domain: str | None  # its branded domain's hostname; None: the appliance's own host
    name: str
    destination_url: str
    is_active: bool
    variants: list[VariantOut]
    scan_count: int
    created_at: str
    updated_at: str
    rules: list[RuleOut]
    active_from: str | None
    active_until: str | None
    max_scans: int | None
    expired_url: str
    utm: Utm
    forward_query: bool
    # live; not_started / ended / capped (scans go to expired_url or a 410 page); inactive
    status: QrStatus


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


class UtmDefaults(Struct):
    """The owner's UTM values for new codes (a workspace's, once workspaces exist)."""

    utm: Utm


PreviewOutcome = Literal[
    "rule", "variants", "destination", "not_started", "ended", "capped", "inactive"
]


class PreviewVariant(Struct):
    label: str
    destination_url: str
    weight: int


class PreviewOut(Struct):
    """Which destination a scan like the one described would get, and why (nothing recorded)."""

    outcome: PreviewOutcome
    status_code: int  # 302, or 410 when the code has ended with no expired_url / is inactive
    label: str  # the rule's or variant's label the scan would record
    destination_url: str  # with UTM; "" for a 410; the first variant's when outcome is variants
    reason: str  # in plain words
    rule_index: int | None = None
    variants: list[PreviewVariant] = field(default_factory=list)  # the weighted pick's options


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
