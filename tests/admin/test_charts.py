"""The SVG chart functions: pure, so tested on their output markup parsed as XML."""

from datetime import date, timedelta
from xml.etree import ElementTree as ET

import pytest

from qrstudio_box.admin import charts

NS = {"s": "http://www.w3.org/2000/svg"}


def parse(markup) -> ET.Element:
    return ET.fromstring(str(markup))


@pytest.mark.parametrize(
    ("max_value", "step", "top"),
    [
        (0, 1, 4),
        (1, 1, 1),
        (3, 1, 3),
        (4, 1, 4),
        (7, 2, 8),
        (10, 5, 10),
        (37, 10, 40),
        (100, 50, 100),
        (101, 50, 150),
        (999, 500, 1000),
        (12345, 5000, 15000),
        (0.3, 0.1, 0.3),
    ],
)
def test_nice_axis(max_value, step, top):
    got_step, got_top = charts.nice_axis(max_value)
    assert got_step == pytest.approx(step)
    assert got_top == pytest.approx(top)
    assert got_top >= max_value


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (7, "7"),
        (950, "950"),
        (1000, "1k"),
        (1234, "1.2k"),
        (3_400_000, "3.4M"),
        (2.5, "2.5"),
    ],
)
def test_format_count(value, text):
    assert charts.format_count(value) == text


def thirty_days(counts: dict[str, int]) -> list[tuple[str, float]]:
    """2026-10-31 .. 2026-11-29, one point a day (what links' per-day stats give the charts)."""
    days = [(date(2026, 10, 31) + timedelta(days=n)).isoformat() for n in range(30)]
    return [(day, float(counts.get(day, 0))) for day in days]


def test_bar_chart_one_bar_per_point_heights_proportional():
    points = [("2026-11-27", 2), ("2026-11-28", 4), ("2026-11-29", 0)]
    svg = parse(charts.series_chart(points, title="Scans per day"))
    bars = svg.findall("s:rect[@class='chart-bar']", NS)
    assert len(bars) == 3
    heights = [float(b.get("height")) for b in bars]
    assert heights[2] == 0
    assert heights[1] == pytest.approx(2 * heights[0])
    # every bar has a tooltip with the exact value and a readable date
    assert [b.find("s:title", NS).text for b in bars] == [
        "Nov 27: 2 scans",
        "Nov 28: 4 scans",
        "Nov 29: 0 scans",
    ]
    assert svg.get("role") == "img"
    assert svg.get("aria-label") == "Scans per day: 6 scans in total"


def test_bars_stay_inside_the_viewbox():
    points = [(f"d{i}", i * 13 % 17) for i in range(30)]
    svg = parse(charts.series_chart(points, title="t", width=640, height=200))
    for bar in svg.findall("s:rect[@class='chart-bar']", NS):
        x, w = float(bar.get("x")), float(bar.get("width"))
        y, h = float(bar.get("y")), float(bar.get("height"))
        assert 0 <= x and x + w <= 640
        assert 0 <= y and y + h <= 200


def test_long_series_thins_x_labels():
    points = thirty_days({})
    svg = parse(charts.series_chart(points, title="30 days"))
    x_labels = [t for t in svg.findall("s:text", NS) if t.get("text-anchor") == "middle"]
    assert 4 <= len(x_labels) <= 9
    assert x_labels[0].text == "Oct 31"


def test_empty_series_says_so():
    svg = parse(charts.series_chart([], title="Nothing"))
    assert svg.find("s:text[@class='chart-empty']", NS).text == "No data yet"
    assert svg.findall("s:rect[@class='chart-bar']", NS) == []


def test_labels_and_title_are_escaped():
    markup = str(charts.series_chart([("<script>", 1)], title='a"b<c'))
    assert "<script>" not in markup
    parse(markup)  # still well-formed XML


def test_line_chart_has_one_dot_per_point():
    svg = parse(charts.series_chart([("a", 1), ("b", 3)], title="t", kind="line"))
    assert len(svg.findall("s:circle", NS)) == 2
    assert svg.find("s:polyline", NS) is not None
    with pytest.raises(ValueError):
        charts.series_chart([], title="t", kind="pie")


@pytest.mark.parametrize(
    ("used", "limit", "state"),
    [
        (0, 100, "ok"),
        (74, 100, "ok"),
        (75, 100, "warn"),
        (99, 100, "warn"),
        (100, 100, "full"),
        (130, 100, "full"),
        (0, 0, "ok"),
        (1, 0, "full"),
    ],
)
def test_meter_state(used, limit, state):
    assert charts.meter_state(used, limit) == state


def test_meter_marks_at_75_and_100_percent():
    svg = parse(charts.meter_svg(30, 100))
    fill = svg.find("s:rect[@class='meter-fill']", NS)
    assert fill.get("width") == "30.00%"
    marks = svg.findall("s:line[@class='meter-mark']", NS)
    assert [m.get("x1") for m in marks] == ["75.00%", "99.75%"]
    assert [t.text for t in svg.findall("s:text", NS)] == ["75%", "100%"]
    assert svg.get("aria-label") == "30 of 100 used (30%)"


def test_meter_overrun_moves_the_100_mark_left():
    svg = parse(charts.meter_svg(200, 100))
    marks = svg.findall("s:line[@class='meter-mark']", NS)
    assert marks[1].get("x1") == "50.00%"
    assert svg.find("s:rect[@class='meter-fill']", NS).get("width") == "100.00%"


def test_meter_empty_has_no_fill():
    svg = parse(charts.meter_svg(0, 100))
    assert svg.find("s:rect[@class='meter-fill']", NS) is None


@pytest.mark.parametrize(
    ("value", "total", "width"), [(0, 10, 0), (5, 10, 50), (10, 10, 100), (3, 0, 0), (20, 10, 100)]
)
def test_share_bar(value, total, width):
    svg = parse(charts.share_bar(value, total))
    assert float(svg.findall("s:rect", NS)[1].get("width")) == pytest.approx(width)


def test_responsive_chart_has_a_compact_tail():
    points = thirty_days({"2026-11-29": 4})
    root = ET.fromstring(f"<root>{charts.responsive_chart(points, title='Scans')}</root>")
    wide, compact = root.findall("div")
    assert len(wide.findall("s:svg/s:rect[@class='chart-bar']", NS)) == 30
    assert len(compact.findall("s:svg/s:rect[@class='chart-bar']", NS)) == 14
