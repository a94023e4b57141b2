import pytest

from qrstudio_box.admin import tokens

KEY = b"k" * 32


def test_csrf_round_trip():
    t = tokens.new_csrf_token(KEY, "usr_1")
    assert tokens.csrf_pair_valid(KEY, t, t, "usr_1")


@pytest.mark.parametrize(
    "case",
    [
        "missing_form",
        "missing_cookie",
        "different",
        "other_subject",
        "other_key",
        "forged",
        "garbage",
    ],
)
def test_csrf_refusals(case):
    good = tokens.new_csrf_token(KEY, "usr_1")
    cookie, form, subject, key = good, good, "usr_1", KEY
    if case == "missing_form":
        form = None
    elif case == "missing_cookie":
        cookie = ""
    elif case == "different":
        form = tokens.new_csrf_token(KEY, "usr_1")
    elif case == "other_subject":
        subject = "usr_2"
    elif case == "other_key":
        key = b"x" * 32
    elif case == "forged":
        cookie = form = good.split(".")[0] + ".AAAA"
    elif case == "garbage":
        cookie = form = "a.b.c"
    assert not tokens.csrf_pair_valid(key, cookie, form, subject)


def test_flash_round_trip_and_tamper():
    packed = tokens.pack_flash(KEY, [("success", "Saved <b>"), ("error", "Nope")])
    assert tokens.unpack_flash(KEY, packed) == [("success", "Saved <b>"), ("error", "Nope")]
    body, sig = packed.split(".")
    assert tokens.unpack_flash(KEY, body + "x." + sig) == []
    assert tokens.unpack_flash(b"other" * 8, packed) == []
    assert tokens.unpack_flash(KEY, None) == []
