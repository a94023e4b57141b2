from __future__ import annotations

import pytest

from qrstudio_box.links.geoip import GeoIP, Location
from tests.links.mmdb import build_city_mmdb


@pytest.fixture(scope="module")
def geoip(tmp_path_factory):
    reader = GeoIP(build_city_mmdb(tmp_path_factory.mktemp("geo") / "city.mmdb"))
    yield reader
    reader.close()


@pytest.mark.parametrize(
    ("ip", "expected"),
    [
        ("203.0.113.7", Location("CA", "Montreal")),
        ("198.51.100.200", Location("DE", "Berlin")),
        ("2001:db8:1::42", Location("JP", "Tokyo")),
        ("192.0.2.1", Location("FR", "")),
        ("8.8.8.8", Location("", "")),
        ("2001:db8:2::1", Location("", "")),
        ("not-an-ip", Location("", "")),
        ("", Location("", "")),
    ],
)
def test_locate(geoip, ip, expected):
    assert geoip.enabled
    assert geoip.locate(ip) == expected


def test_without_a_database_everything_is_nowhere():
    geoip = GeoIP(None)
    assert not geoip.enabled
    assert geoip.locate("203.0.113.7") == Location("", "")


def test_a_file_that_is_not_a_database_is_one_clear_error(tmp_path):
    from qrstudio_box.links.geoip import GeoIPError

    bogus = tmp_path / "GeoLite2-City.mmdb"
    bogus.write_bytes(b"not a database at all")
    with pytest.raises(GeoIPError, match=r"^geoip.database: .* is not a MaxMind database"):
        GeoIP(bogus)
