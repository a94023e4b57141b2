from __future__ import annotations

from datetime import date

import pytest

from qrstudio_box.links.period import (
    day_from_number,
    day_number,
    parse_scan_bound,
    parse_stats_day,
    stats_range,
)
from qrstudio_box.links.rules import InputError

MAY_9 = 1778284800000  # 2026-05-09T00:00:00Z in ms


def test_day_numbers_match_the_trigger():
    assert day_number(date(2026, 5, 9)) == MAY_9 // 86_400_000
    assert day_from_number(MAY_9 // 86_400_000) == date(2026, 5, 9)


@pytest.mark.parametrize(
    ("text", "upper", "expected"),
    [
        ("2026-05-09", False, MAY_9),
        ("2026-05-09", True, MAY_9 + 86_400_000),
        ("2026-05-09T00:00:00Z", False, MAY_9),
        ("2026-05-09T00:00:00Z", True, MAY_9 + 1),
        ("2026-05-09T02:00:00+02:00", False, MAY_9),
        ("2026-05-09T00:00:00.250", False, MAY_9 + 250),
        (None, True, None),
        ("", False, None),
    ],
)
def test_scan_bounds(text, upper, expected):
    assert parse_scan_bound("from", text, upper=upper) == expected


@pytest.mark.parametrize("text", ["yesterday", "2026-13-01", "09/05/2026", "2026-05-09T25:00"])
def test_bad_bounds_name_the_field(text):
    with pytest.raises(InputError) as raised:
        parse_scan_bound("to", text, upper=True)
    assert raised.value.field == "to"


def test_stats_days():
    assert parse_stats_day("from", "2026-05-09T23:30:00-02:00") == date(2026, 5, 10)
    created, today = date(2026, 5, 1), date(2026, 5, 9)
    assert stats_range(None, None, created, today) == (created, today)
    assert stats_range(date(2026, 5, 3), None, created, today) == (date(2026, 5, 3), today)
    with pytest.raises(InputError) as raised:
        stats_range(date(2026, 5, 3), date(2026, 5, 2), created, today)
    assert raised.value.field == "to"
    with pytest.raises(InputError) as raised:
        stats_range(date(2000, 1, 1), date(2026, 5, 2), created, today)
    assert raised.value.field == "from"
