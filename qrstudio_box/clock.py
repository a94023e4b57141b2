"""Time, injected: every rule that depends on time asks a Clock, so tests can step it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC: for what is stored, shown or compared with
        stored times."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never step back: for measuring elapsed time in
        memory (rate limits), so a wall-clock step (NTP, an operator) cannot stretch a wait."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when a test moves it.

    `advance()` is time passing: wall and monotonic readings move together. `set()` is the
    wall clock being stepped (forward or back): the monotonic reading stays where it is.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 5, 9, 14, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._monotonic = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(
        self, seconds: float = 0, minutes: float = 0, hours: float = 0, days: float = 0
    ) -> datetime:
        step = timedelta(seconds=seconds, minutes=minutes, hours=hours, days=days)
        if step < timedelta(0):
            raise ValueError("FakeClock.advance moves forward; set() steps the wall clock back")
        self._now += step
        self._monotonic += step.total_seconds()
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("FakeClock.set needs a timezone-aware datetime")
        self._now = moment


def iso_ms(moment: datetime) -> str:
    """`2026-05-09T14:01:23.451Z`: scanned_at as docs/webhooks.md shows it."""
    return f"{_iso_second(moment)[:-1]}.{moment.microsecond // 1000:03d}Z"


def iso_s(moment: datetime) -> str:
    """`2026-05-09T14:01:23Z`: created_at as docs/webhooks.md shows it."""
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
