from datetime import UTC, datetime

import pytest

from qrstudio_box.admin import fmt
from qrstudio_box.admin.ui import errors_of, safe_next
from qrstudio_box.errors import ApiError

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (None, "/admin/"),
        ("", "/admin/"),
        ("/admin/qrs/abc", "/admin/qrs/abc"),
        ("/admin/qrs/?q=x", "/admin/qrs/?q=x"),
        ("//evil.example/", "/admin/"),
        ("https://evil.example/admin/", "/admin/"),
        ("/admin/\\evil", "/admin/"),
        ("/api/v1/me/", "/admin/"),
        ("/admin", "/admin/"),
    ],
)
def test_safe_next(target, expected):
    assert safe_next(target) == expected


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "never"),
        ("2026-11-29T11:59:30Z", "just now"),
        ("2026-11-29T11:55:00Z", "5 min ago"),
        ("2026-11-29T09:00:00Z", "3 h ago"),
        ("2026-11-28T11:00:00Z", "1 day ago"),
        ("2026-11-20T12:00:00Z", "9 days ago"),
        ("2026-11-29T12:00:05Z", "just now"),  # a clock a little ahead is not "in the future"
    ],
)
def test_ago(value, text):
    assert fmt.ago(value, NOW) == text


def test_when_and_num():
    assert fmt.when("2026-11-29T14:03:09.123Z") == "2026-11-29 14:03 UTC"
    assert fmt.when(None) == ""
    assert fmt.num(1234567) == "1,234,567"
    assert fmt.num(None) == "0"


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (
            ApiError(400, "destination_url: must be an http(s) URL", field="destination_url"),
            {"destination_url": "Destination URL must be an http(s) URL"},
        ),
        (
            ApiError(400, "variants[1].weight: must be positive", field="variants[1].weight"),
            {"variants": "Variant 2's weight must be positive"},
        ),
        (ApiError(400, "events[0]: unknown", field="events[0]"), {"events": "Event 1: unknown"}),
        (
            ApiError(403, "Webhooks require Pro plan or higher"),
            {"form": "Webhooks require Pro plan or higher"},
        ),
    ],
)
def test_errors_of(error, expected):
    assert errors_of(error) == expected
