"""errors.py: plain words for validator text, and every wrong field in one answer (issue 15.8)."""

from __future__ import annotations

import pytest

from qrstudio_box.errors import ApiError, FieldError, FieldProblems, plain_words


@pytest.mark.parametrize(
    "message, unit, words",
    [
        ("Expected `int` <= 4096", " pixels", "must be at most 4096 pixels"),
        ("Expected `int` >= 21", " pixels", "must be at least 21 pixels"),
        ("Expected `int` <= 20 - at `$.border`", " modules", "must be at most 20 modules"),
        ("Expected `float` > 0", "", "must be more than 0"),
        ("Expected `int | null`, got `str`", "", "must be a whole number"),
        ("Expected `int`, got `float`", "", "must be a whole number"),
        ("Expected `bool`, got `str`", "", "use true or false"),
        ("Expected `str`, got `int`", "", "must be text"),
        ("Expected `str` of length <= 200", "", "must be at most 200 characters"),
        ("Expected `str` of length >= 1", "", "is required"),
        ("Expected `str` of length >= 8", "", "must be at least 8 characters"),
        ("Expected `array`, got `str`", "", "must be a list"),
        ("Expected `array` of length <= 20", "", "may hold at most 20 items"),
        ("Expected `object`, got `array`", "", "must be an object"),
        ("Invalid enum value 'gif'", "", "'gif' is not one of the allowed values"),
        ("Object missing required field `url`", "", "is required"),
        ("Object contains unknown field `micro`", "", "is not a known field"),
        # our own messages pass unchanged
        ("must be an http(s) URL", "", "must be an http(s) URL"),
        ("choose at least one event", "", "choose at least one event"),
    ],
)
def test_plain_words(message, unit, words):
    assert plain_words(message, unit) == words


def test_field_problems_keep_every_field_error_and_let_others_through():
    problems = FieldProblems()

    def refuse(field: str) -> None:
        raise FieldError(field, f"{field}: must be better")

    assert problems.check(refuse, "size") is None
    assert problems.check(lambda: 7) == 7
    problems.check(lambda: (_ for _ in ()).throw(ApiError(400, "url: no", field="url")))
    problems.add("dark", "dark: must be a colour")
    with pytest.raises(ApiError) as raised:
        problems.raise_if_any()
    body = raised.value.body()
    assert body == {
        "status_code": 400,
        "error": "bad_request",
        "detail": "size: must be better; url: no; dark: must be a colour",
        "field": "size",
        "errors": [
            {"field": "size", "detail": "size: must be better"},
            {"field": "url", "detail": "url: no"},
            {"field": "dark", "detail": "dark: must be a colour"},
        ],
    }
    # not a field's fault (a plan limit): that answer, at once
    with pytest.raises(ApiError) as limit:
        FieldProblems().check(lambda: (_ for _ in ()).throw(ApiError(403, "plan limit")))
    assert limit.value.status_code == 403


def test_a_single_field_error_keeps_its_shape():
    assert ApiError(400, "name: is required", field="name").body() == {
        "status_code": 400,
        "error": "bad_request",
        "detail": "name: is required",
        "field": "name",
    }
    FieldProblems().raise_if_any()  # nothing found: nothing raised


def test_the_api_names_every_wrong_field_of_a_new_user(client, admin_headers, sql):
    response = client.post(
        "/api/v1/admin/users/",
        headers=admin_headers,
        json={"email": "not-an-email", "password": "short", "plan": "gold"},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert [item["field"] for item in body["errors"]] == ["email", "plan", "password"]
    assert body["field"] == "email"
    assert body["errors"][0]["detail"] == "email: must be an email address like name@example.com"
    assert sql("SELECT count(*) FROM users")[0][0] == 1  # the admin only


def test_a_wrong_type_in_a_body_is_said_in_words(client, admin_headers):
    created = client.post(
        "/api/v1/dynamic-qrs/", headers=admin_headers, json={"destination_url": "https://a.test/"}
    )
    short_id = created.json()["short_id"]
    response = client.patch(
        f"/api/v1/dynamic-qrs/{short_id}/", headers=admin_headers, json={"is_active": "yes"}
    )
    assert response.status_code == 400
    assert response.json() == {
        "status_code": 400,
        "error": "bad_request",
        "detail": "is_active: use true or false",
        "field": "is_active",
    }
