"""Build a tiny GeoLite2-City-shaped .mmdb for tests (mmdb-writer)."""

from __future__ import annotations

from pathlib import Path

from mmdb_writer import MMDBWriter
from netaddr import IPSet


def city_record(iso_code: str, city: str) -> dict:
    return {
        "country": {"iso_code": iso_code, "names": {"en": iso_code}},
        "city": {"names": {"en": city}},
    }


# Documentation ranges, so no test pretends a real address is somewhere.
NETWORKS = {
    "203.0.113.0/24": city_record("CA", "Montreal"),
    "198.51.100.0/24": city_record("DE", "Berlin"),
    "2001:db8:1::/48": city_record("JP", "Tokyo"),
    # A country-level record with no city, as GeoLite2 has for many ranges.
    "192.0.2.0/24": {"country": {"iso_code": "FR"}},
}


def build_city_mmdb(path: Path) -> Path:
    writer = MMDBWriter(ip_version=6, database_type="GeoLite2-City", ipv4_compatible=True)
    for network, record in NETWORKS.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))
    return path
