"""Destinations a browser reads differently are refused through the API, and the admin UI
shows an IDN host's punycode next to its Unicode form (issue 14.11; the rules' table is in
test_links_rules.py)."""

import pytest

from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from ..reliability.test_edge import ui_sign_in

QRS = "/api/v1/dynamic-qrs/"


@pytest.mark.parametrize(
    "url, message",
    [
        ("https://example.com/\u202egpj.exe", "invisible formatting characters"),
        ("https://bank.example\\.evil.example/", "backslash"),
        ("https://0x7f.1/", "non-standard form"),
    ],
)
def test_the_api_refuses_them_naming_the_field_and_stores_nothing(
    client, admin_headers, sql, url, message
):
    for body in (
        {"destination_url": url},
        {"destination_url": "https://example.com/", "expired_url": url},
        {
            "destination_url": "https://example.com/",
            "variants": [
                {"label": "a", "destination_url": "https://example.com/a", "weight": 1},
                {"label": "b", "destination_url": url, "weight": 1},
            ],
        },
    ):
        response = client.post(QRS, headers=admin_headers, json=body)
        assert response.status_code == 400, response.text
        error = response.json()
        assert message in error["detail"]
        assert error["field"] in ("destination_url", "expired_url", "variants[1].destination_url")
    assert sql("SELECT count(*) FROM dynamic_qrs")[0][0] == 0


def test_the_qr_page_shows_an_idn_host_in_punycode_next_to_its_unicode_form(client, admin_headers):
    look_alike = client.post(
        QRS, headers=admin_headers, json={"destination_url": "https://аpple.com/offer"}
    ).json()  # a Cyrillic а
    plain = client.post(
        QRS, headers=admin_headers, json={"destination_url": "https://apple.com/offer"}
    ).json()
    ui_sign_in(client, ADMIN_EMAIL, ADMIN_PASSWORD)
    page = client.get(f"/admin/qrs/{look_alike['short_id']}").text
    assert "https://аpple.com/offer" in page
    assert "Host as browsers send it: <code>xn--pple-43d.com</code>" in page
    assert "data-punycode" not in client.get(f"/admin/qrs/{plain['short_id']}").text
