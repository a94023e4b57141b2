"""Formatting for templates: numbers, times, relative ages. Pure functions."""

from __future__ import annotations

from datetime import UTC, datetime

from ..clock import parse_iso
from ..urls import ascii_host  # noqa: F401 - for templates: an IDN host's punycode form


def num(value: float | int | None) -> str:
    if value is None:
        return "0"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


def when(value: str | datetime | None, seconds: bool = False) -> str:
    """'2026-11-29 14:03 UTC' (with seconds: '2026-11-29 14:03:07 UTC') from an ISO string or
    datetime; '' for None."""
    if not value:
        return ""
    moment = parse_iso(value) if isinstance(value, str) else value
    return moment.astimezone(UTC).strftime(
        "%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC"
    )


def ago(value: str | datetime | None, now: datetime) -> str:
    """'just now', '5 min ago', '3 h ago', '2 days ago'."""
    if not value:
        return "never"
    moment = parse_iso(value) if isinstance(value, str) else value
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h ago"
    days = seconds // 86400
    return "1 day ago" if days == 1 else f"{days} days ago"
