"""Country and city of a scanner's IP from a MaxMind-format database (GeoLite2-City).

Without a database, or when an address has no record, both are empty strings: a scan is
always recorded, geolocated or not. The reader memory-maps the file (MODE_AUTO), so a
lookup is a few microseconds and needs no cache of our own.
"""

from __future__ import annotations

from pathlib import Path

import maxminddb
import msgspec


class GeoIPError(RuntimeError):
    """The configured database cannot be used; one line naming the key."""


class Location(msgspec.Struct, frozen=True):
    country: str = ""  # ISO 3166-1 alpha-2, e.g. "CA"
    city: str = ""  # English name, e.g. "Montreal"


NOWHERE = Location()


class GeoIP:
    def __init__(self, database: str | Path | None) -> None:
        self.path = Path(database) if database else None
        self._reader = None
        if self.path:
            try:
                self._reader = maxminddb.open_database(str(self.path))
            except (OSError, ValueError) as error:  # InvalidDatabaseError is a RuntimeError
                raise GeoIPError(f"geoip.database: cannot open {self.path}: {error}") from None
            except maxminddb.InvalidDatabaseError as error:
                raise GeoIPError(
                    f"geoip.database: {self.path} is not a MaxMind database ({error})"
                ) from None

    @property
    def enabled(self) -> bool:
        return self._reader is not None

    def locate(self, ip: str) -> Location:
        if self._reader is None or not ip:
            return NOWHERE
        try:
            record = self._reader.get(ip)
        except ValueError:  # not an IP address, or IPv6 asked of an IPv4-only database
            return NOWHERE
        if not isinstance(record, dict):
            return NOWHERE
        country = record.get("country") or record.get("registered_country") or {}
        city = record.get("city") or {}
        return Location(
            country=str(country.get("iso_code", "") or ""),
            city=str((city.get("names") or {}).get("en", "") or ""),
        )

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
