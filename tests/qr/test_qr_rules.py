"""qr/rules.py: the version and the width of an image, known before it is rendered."""

from __future__ import annotations

import pytest
import segno

from qrstudio_box.qr import rules

DATA = [
    "12345",  # numeric
    "HELLO WORLD",  # alphanumeric
    "https://qr.example.com/r/AbCdEf12",  # byte
    "Grüße, 東京 🍣" * 20,  # UTF-8 bytes
    "7" * 7000,  # numeric, version 40 at L
    "A" * 4000,  # alphanumeric, past version 40 at H
    "x" * 2953,  # exactly what version 40-L holds in byte mode
    "x" * 2954,  # one byte too many for any QR
]


@pytest.mark.parametrize("level", ["L", "M", "Q", "H"])
@pytest.mark.parametrize("data", DATA, ids=lambda d: f"{len(d)}:{d[:8]}")
def test_planned_version_is_the_one_segno_renders(data, level):
    try:
        rendered = segno.make_qr(data, error=level).version
    except segno.DataOverflowError:
        rendered = None
    assert rules.planned_version(data, level) == rendered


@pytest.mark.parametrize(
    ("version", "border", "modules"),
    [(1, 0, 21), (1, 4, 29), (40, 4, 185), (40, 20, 217), (10, 2, 61)],
)
def test_modules_per_side(version, border, modules):
    assert rules.modules_per_side(version, border) == modules


@pytest.mark.parametrize(
    ("scale", "border", "may"),
    [
        (22, 4, False),  # 185 * 22 = 4070: no data can go past 4096
        (23, 4, True),  # 185 * 23 = 4255
        (18, 20, False),  # 217 * 18 = 3906
        (19, 20, True),  # 217 * 19 = 4123
        (50, 0, True),
        (1, 20, False),
    ],
)
def test_may_exceed_cap(scale, border, may):
    assert rules.may_exceed_cap(scale, border) is may


@pytest.mark.parametrize(
    ("version", "border", "scale", "complaint"),
    [
        (40, 4, 50, "scale: the image would be 9250 pixels wide; at most 4096"),
        (40, 4, 22, None),  # 185 * 22 = 4070
        (40, 20, 19, "scale: the image would be 4123 pixels wide; at most 4096"),
        (3, 4, 50, None),  # a short link: 37 * 50 = 1850
        (27, 4, 32, "scale: the image would be 4256 pixels wide; at most 4096"),
        (20, 4, 39, None),  # 105 * 39 = 4095, the widest below the cap
        (20, 4, 40, "scale: the image would be 4200 pixels wide; at most 4096"),
    ],
)
def test_too_wide_names_the_width_and_the_limit(version, border, scale, complaint):
    assert rules.too_wide(version, border, scale) == complaint
