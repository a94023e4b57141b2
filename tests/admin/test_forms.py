import pytest

from qrstudio_box.admin.forms import checkbox, field_group, parse_variants


@pytest.mark.parametrize(
    ("labels", "urls", "weights", "rows", "errors"),
    [
        ([], [], [], [], {}),
        ([""], [""], ["1"], [], {}),  # the spare empty row
        (
            ["A"],
            ["https://a.example"],
            ["3"],
            [{"label": "A", "destination_url": "https://a.example", "weight": 3}],
            {},
        ),
        (
            ["A"],
            ["https://a.example"],
            [""],
            [{"label": "A", "destination_url": "https://a.example", "weight": 1}],
            {},
        ),
        (
            [" B "],
            [" https://b.example "],
            [" 2 "],
            [{"label": "B", "destination_url": "https://b.example", "weight": 2}],
            {},
        ),
        (
            ["A", "", "C"],
            ["https://a", "", "https://c"],
            ["1", "", "0"],
            [
                {"label": "A", "destination_url": "https://a", "weight": 1},
                {"label": "C", "destination_url": "https://c", "weight": 0},
            ],
            {},
        ),  # 0 is the service's call
        (
            ["A"],
            ["https://a"],
            ["x"],
            [{"label": "A", "destination_url": "https://a", "weight": "x"}],
            {"variants": "Variant 1: the weight must be a whole number."},
        ),
        (
            ["A"],
            [],
            [],
            [{"label": "A", "destination_url": "", "weight": 1}],
            {},
        ),  # missing url: service says so
    ],
)
def test_parse_variants(labels, urls, weights, rows, errors):
    assert parse_variants(labels, urls, weights) == (rows, errors)


@pytest.mark.parametrize(
    ("value", "expected"), [("on", True), ("yes", True), (None, False), ("", False), ("off", False)]
)
def test_checkbox(value, expected):
    assert checkbox(value) is expected


@pytest.mark.parametrize(
    ("field", "group"),
    [
        (None, "form"),
        ("name", "name"),
        ("variants", "variants"),
        ("variants[2].weight", "variants"),
        ("events[0]", "events"),
        ("destination_url", "destination_url"),
        ("variantsx", "variantsx"),
    ],
)
def test_field_group(field, group):
    assert field_group(field) == group
