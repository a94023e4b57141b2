"""Time, injected: every rule that depends on time asks a Clock, so tests can step it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FakeClock:
    """A clock that only moves when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 5, 9, 14, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")

    def now(self) -> datetime:
        return self._now

    def advance(
        self, seconds: float = 0, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> datetime:
        self._now += timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FakeClock.set needs a timezone-aware datetime")
        self._now = moment


def iso_ms(moment: datetime) -> str:
    """`2026-05-09T14:01:23.451Z`: the guide's scanned_at format."""
    return f"{_iso_second(moment)[:-1]}.{moment.microsecond // 1000:03d}Z"


def iso_s(moment: datetime) -> str:
    """`2026-05-09T14:01:23Z`: the guide's created_at format."""
    return _iso_second(moment)


_last_second: tuple[int, str] = (-1, "")


def _iso_second(moment: datetime) -> str:
    # strftime costs ~4.5 us and a scan formats three timestamps, mostly of the same second as
    # the scan before it: remember the last second's text (a race only recomputes it).
    global _last_second
    second = int(moment.timestamp() // 1)
    cached_second, text = _last_second
    if second != cached_second:
        text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        _last_second = (second, text)
    return text


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp; a naive one is taken as UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def unix_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def from_unix_ms(value: int) -> datetime:
    return datetime.fromtimestamp(value / 1000, UTC)
