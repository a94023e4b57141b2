import pytest

from qrstudio_box.admin.forms import checkbox, field_group, parse_variants, sentence


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


def _rule_form(**given):
    """One rule row's parallel fields (all sent by the browser), overridden by `given`."""
    from qrstudio_box.admin.forms import RULE_LISTS

    form = {name: [""] for name in RULE_LISTS}
    form["rule_key"] = ["0"]
    form.update(given)
    return lambda name: form.get(name, [])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, []),  # the spare row
        (
            {"rule_label": ["ios"], "rule_url": ["https://a/"], "rule_os": ["iOS, iPadOS ,"]},
            [{"label": "ios", "destination_url": "https://a/", "when": {"os": ["iOS", "iPadOS"]}}],
        ),
        (
            {
                "rule_label": ["night"],
                "rule_url": ["https://n/"],
                "rule_hours_from": ["22:00"],
                "rule_hours_to": ["06:00"],
                "rule_between_from": ["2026-06-01T09:00"],
                "rule_bots": ["no"],
                "rule_weekdays_0": ["sat", "sun"],
            },
            [
                {
                    "label": "night",
                    "destination_url": "https://n/",
                    "when": {
                        "weekdays": ["sat", "sun"],
                        "hours": {"from": "22:00", "to": "06:00", "tz": "UTC"},
                        "between": {"from": "2026-06-01T09:00:00Z"},
                        "bots": False,
                    },
                }
            ],
        ),
        ({"rule_label": ["x"], "rule_url": ["https://x/"], "rule_remove_0": ["on"]}, []),
        (
            {
                "rule_key": ["0", "1"],
                "rule_position": ["2", "1"],
                "rule_label": ["a", "b"],
                "rule_url": ["https://a/", "https://b/"],
            },
            [
                {"label": "b", "destination_url": "https://b/", "when": {}},
                {"label": "a", "destination_url": "https://a/", "when": {}},
            ],
        ),
    ],
)
def test_parse_rules(given, expected):
    from qrstudio_box.admin.forms import parse_rules

    assert parse_rules(_rule_form(**given)) == expected


@pytest.mark.parametrize(
    "field, detail, words",
    [
        # issue 15.8: what a form says next to the field, never a code name
        ("size", "size: must be at most 4096 pixels", "Size must be at most 4096 pixels"),
        ("is_active", "is_active: use true or false", "Use true or false"),
        ("name", "name: is required", "Name is required"),
        ("border", "border: must be a whole number", "Quiet zone must be a whole number"),
        (
            "destination_url",
            "destination_url: must be an http(s) URL",
            "Destination URL must be an http(s) URL",
        ),
        (
            "variants[0].destination_url",
            "variants[0].destination_url: must be an http(s) URL",
            "Variant 1's destination URL must be an http(s) URL",
        ),
        (
            "variants[1].label",
            "variants[1].label: 'A' is used twice",
            "Variant 2's label: 'A' is used twice",
        ),
        ("events[0]", "events[0]: unknown", "Event 1: unknown"),
        ("events", "events: choose at least one event", "Choose at least one event"),
        (
            "url",
            "url: host nowhere.invalid does not resolve",
            "Host nowhere.invalid does not resolve",
        ),
        ("some_field", "some_field: must be short", "Some field must be short"),
        (
            "fallback_url",
            "fallback_url: must be an http(s) URL",
            "Fallback URL must be an http(s) URL",
        ),
    ],
)
def test_sentence(field, detail, words):
    assert sentence(field, detail) == words
    assert "_" not in words.split(":")[0] and "[" not in words
