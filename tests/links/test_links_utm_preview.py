"""UTM and query strings on the chosen destination, the owner's UTM defaults for new codes,
and the preview that answers where a described scan would go (recording nothing)."""

from __future__ import annotations

from datetime import timedelta

from qrstudio_box.clock import iso_s
from tests.links.helpers import ANDROID_CHROME, GOOGLEBOT, IPHONE_SAFARI, create_qr

BASE = "/api/v1/dynamic-qrs/"
SETTINGS = "/api/v1/settings/utm/"


def location(client, short_id, query="", **headers):
    answer = client.get(
        f"/r/{short_id}{query}",
        headers={"User-Agent": IPHONE_SAFARI, **headers},
        follow_redirects=False,
    )
    assert answer.status_code == 302, answer.text
    return answer.headers["location"]


def test_utm_is_appended_to_the_chosen_destination_never_over_its_own(client, make_user):
    user = make_user()
    qr = create_qr(
        client,
        user.headers,
        destination_url="https://example.com/menu?utm_source=own#top",
        utm={"source": "flyer", "medium": "print", "campaign": "spring 26"},
        rules=[
            {
                "label": "ios",
                "destination_url": "https://apps.apple.com/app",
                "when": {"os": ["iOS"]},
            }
        ],
    )
    assert qr["utm"] == {"source": "flyer", "medium": "print", "campaign": "spring 26"}
    tags = "utm_source=flyer&utm_medium=print&utm_campaign=spring+26"
    assert location(client, qr["short_id"]) == f"https://apps.apple.com/app?{tags}"
    assert location(client, qr["short_id"], **{"User-Agent": ANDROID_CHROME}) == (
        "https://example.com/menu?utm_source=own&utm_medium=print&utm_campaign=spring+26#top"
    )
    # forward_query is off by default: the scan's query string stays behind.
    assert location(client, qr["short_id"], "?table=12") == f"https://apps.apple.com/app?{tags}"


def test_forward_query_passes_the_scan_query_on_below_the_destination_own(client, make_user):
    user = make_user()
    qr = create_qr(
        client,
        user.headers,
        destination_url="https://example.com/menu?lang=en",
        utm={"source": "flyer"},
        forward_query=True,
    )
    assert location(client, qr["short_id"], "?table=12&lang=fr&utm_source=poster") == (
        "https://example.com/menu?lang=en&utm_source=flyer&table=12"
    )
    url = f"{BASE}{qr['short_id']}/"
    assert client.patch(url, headers=user.headers, json={"forward_query": False}).status_code == 200
    assert location(client, qr["short_id"], "?table=12") == (
        "https://example.com/menu?lang=en&utm_source=flyer"
    )


def test_owner_utm_defaults_apply_to_new_codes_only(client, make_user, sql):
    user, other = make_user(), make_user()
    assert client.get(SETTINGS, headers=user.headers).json() == {"utm": {}}
    before = create_qr(client, user.headers)
    answer = client.put(
        SETTINGS,
        headers=user.headers,
        json={"utm": {"source": "qr", "medium": "print", "term": ""}},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"utm": {"source": "qr", "medium": "print"}}
    assert client.get(SETTINGS, headers=user.headers).json() == answer.json()
    assert client.get(SETTINGS, headers=other.headers).json() == {"utm": {}}
    assert create_qr(client, user.headers)["utm"] == {"source": "qr", "medium": "print"}
    assert create_qr(client, user.headers, utm={})["utm"] == {}  # explicitly none
    assert create_qr(client, user.headers, utm={"campaign": "x"})["utm"] == {"campaign": "x"}
    assert create_qr(client, other.headers)["utm"] == {}
    got = client.get(f"{BASE}{before['short_id']}/", headers=user.headers).json()
    assert got["utm"] == {}
    bad = client.put(SETTINGS, headers=user.headers, json={"utm": {"medium": "m" * 201}})
    assert (bad.status_code, bad.json()["field"]) == (400, "utm.medium")
    assert sql("SELECT utm FROM utm_defaults WHERE owner_id = ?", (user.id,))[0][0] == (
        '{"source":"qr","medium":"print"}'
    )


def test_preview_says_which_destination_and_why_and_records_nothing(
    client, make_user, sql, fake_clock
):
    user = make_user()
    end = fake_clock.now() + timedelta(days=30)
    qr = create_qr(
        client,
        user.headers,
        rules=[
            {"label": "bots", "destination_url": "https://b.example/", "when": {"bots": True}},
            {
                "label": "fr-ca",
                "destination_url": "https://fr.example/",
                "when": {"country": ["CA"], "language": ["fr"]},
            },
        ],
        variants=[
            {"label": "A", "destination_url": "https://a.example/", "weight": 3},
            {"label": "B", "destination_url": "https://b2.example/", "weight": 1},
        ],
        active_until=iso_s(end),
        expired_url="https://example.com/bye",
    )
    url = f"{BASE}{qr['short_id']}/preview/"
    scans_before = sql("SELECT count(*) FROM scans")[0][0]

    def preview(**params):
        answer = client.get(url, headers=user.headers, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    got = preview(country="ca", language="fr-CA,en;q=0.5", user_agent=IPHONE_SAFARI)
    assert (got["outcome"], got["label"], got["rule_index"], got["status_code"]) == (
        "rule",
        "fr-ca",
        1,
        302,
    )
    assert got["destination_url"] == "https://fr.example/"
    assert "rule 2 (fr-ca)" in got["reason"]
    assert preview(user_agent=GOOGLEBOT)["label"] == "bots"
    got = preview(country="CA", user_agent=IPHONE_SAFARI)  # no language: unknown, no match
    assert got["outcome"] == "variants"
    assert [(v["label"], v["weight"]) for v in got["variants"]] == [("A", 3), ("B", 1)]
    got = preview(at=iso_s(end), language="fr", country="CA")
    assert (got["outcome"], got["label"], got["destination_url"]) == (
        "ended",
        "(expired)",
        "https://example.com/bye",
    )
    assert sql("SELECT count(*) FROM scans")[0][0] == scans_before

    for params, field in [
        ({"country": "XX"}, "country"),
        ({"at": "tomorrow"}, "at"),
    ]:
        answer = client.get(url, headers=user.headers, params=params)
        assert (answer.status_code, answer.json()["field"]) == (400, field)
    other = make_user()
    assert client.get(url, headers=other.headers).status_code == 404
    client.patch(f"{BASE}{qr['short_id']}/", headers=user.headers, json={"is_active": False})
    assert preview()["outcome"] == "inactive"
