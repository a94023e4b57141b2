"""The injected clock's two readings (issue 14.8): wall time and monotonic elapsed time."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from qrstudio_box.clock import FakeClock, SystemClock

START = datetime(2026, 5, 9, 14, 0, tzinfo=UTC)


def test_advance_is_time_passing_both_readings_move():
    clock = FakeClock(START)
    before = clock.monotonic()
    clock.advance(minutes=2, seconds=3)
    assert clock.now() == START + timedelta(seconds=123)
    assert clock.monotonic() == before + 123


@pytest.mark.parametrize("step", [timedelta(hours=-1), timedelta(days=3)])
def test_set_steps_the_wall_clock_only(step):
    clock = FakeClock(START)
    before = clock.monotonic()
    clock.set(START + step)
    assert clock.now() == START + step
    assert clock.monotonic() == before


def test_advance_never_goes_back():
    with pytest.raises(ValueError, match="set"):
        FakeClock(START).advance(seconds=-1)


def test_the_system_clock_reads_time_monotonic():
    clock = SystemClock()
    low = time.monotonic()
    reading = clock.monotonic()
    assert low <= reading <= time.monotonic()
