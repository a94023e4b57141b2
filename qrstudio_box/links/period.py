"""Date and time query parameters of scans and stats, as pure functions."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from .rules import InputError

EPOCH = date(1970, 1, 1)
MAX_STATS_DAYS = 3660  # ten years of per-day rows is plenty for one answer
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def day_number(day: date) -> int:
    """Days since 1970-01-01: the `day` column of the rollups (scanned_at // 86_400_000)."""
    return (day - EPOCH).days


def day_from_number(number: int) -> date:
    return EPOCH + timedelta(days=number)


def _parse(field: str, text: str) -> datetime:
    try:
        text = text.strip()
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        raise InputError(field, "must be a date (2026-05-09) or an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_scan_bound(field: str, text: str | None, *, upper: bool) -> int | None:
    """A scans filter bound as unix ms; `to` is inclusive: a bare date means its whole day."""
    if text is None or text == "":
        return None
    moment = _parse(field, text)
    millis = int(moment.timestamp() * 1000)
    if not upper:
        return millis
    # Exclusive upper bound: the next day for a bare date, the next millisecond otherwise.
    return millis + (86_400_000 if _DATE_ONLY.match(text.strip()) else 1)


def parse_stats_day(field: str, text: str | None) -> date | None:
    """Stats count whole UTC days: a time stands for the UTC day it falls on."""
    if text is None or text == "":
        return None
    return _parse(field, text).astimezone(UTC).date()


def stats_range(
    first: date | None, last: date | None, created: date, today: date
) -> tuple[date, date]:
    """The inclusive day range of a stats answer: default from creation day to today."""
    first = first or created
    last = last or max(today, first)
    if last < first:
        raise InputError("to", "must not be before from")
    if (last - first).days >= MAX_STATS_DAYS:
        raise InputError("from", f"the range may span at most {MAX_STATS_DAYS} days")
    return first, last
