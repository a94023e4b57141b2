"""A/B variants: a weighted pick per scan, sticky per scanner.

How a scan chooses (no database query on the redirect path):

1. The scanner is `scanner_hash(salt, ip, user_agent)`: a keyed BLAKE2b of IP and user
   agent. The salt lives in data_dir, not in the database, so the stored hash cannot be
   reversed by enumerating IPv4 addresses with the database file alone.
2. The weighted pick is driven by a draw derived from (scanner, short_id): uniformly
   spread over scanners (so weights hold across a crowd) and the same for the same scanner
   (so a scanner keeps its variant while the variant set is unchanged, across restarts too).
3. `StickyVariants`, an in-memory map with a 24 h TTL, remembers what each scanner got,
   so a scanner keeps its variant for 24 h even when the owner edits weights or adds a
   variant in between. The map is bounded (oldest entries go first) and lives only in
   memory: after a restart, or for an evicted entry, step 2 answers, which is the same
   variant unless the variant set changed meanwhile.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from itertools import accumulate

import msgspec

DEFAULT_LABEL = "(default)"
# A scan outside its code's lifecycle (not started, ended, capped) is recorded with this label.
EXPIRED_LABEL = "(expired)"
STICKY_SECONDS = 24 * 60 * 60
DRAW_RANGE = 2**64


class Variant(msgspec.Struct, frozen=True):
    label: str
    destination_url: str
    weight: int


def scanner_hash(salt: bytes, ip: str, user_agent: str) -> bytes:
    """16 bytes naming one scanner (IP + user agent) without storing the IP."""
    digest = hashlib.blake2b(key=salt[:64], digest_size=16)
    digest.update(ip.encode())
    digest.update(b"\x00")
    digest.update(user_agent.encode("utf-8", "surrogatepass"))
    return digest.digest()


def draw_for(scanner: bytes, short_id: str) -> int:
    """A number in [0, 2**64): pseudo-random across scanners, fixed for one scanner and QR."""
    digest = hashlib.blake2b(scanner + short_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def pick_variant(variants: Sequence[Variant], draw: int) -> Variant:
    """The variant whose weight interval holds `draw`; `draw` is uniform in [0, 2**64)."""
    if len(variants) == 1:
        return variants[0]
    cumulative = list(accumulate(variant.weight for variant in variants))
    # 64 bits scaled onto the total: the bias is below 2**-40 for any sane total weight.
    point = draw * cumulative[-1] // DRAW_RANGE
    return variants[bisect.bisect_right(cumulative, point)]


class StickyVariants:
    """(qr, scanner) -> label for 24 h after the first scan; bounded, oldest out first.

    Entries are inserted in time order with one TTL, so insertion order is expiry order and
    expired entries are trimmed from the front on each insert: O(1) amortised, no sweeper.
    Only QRs with two or more variants use it.
    """

    def __init__(self, ttl_seconds: float = STICKY_SECONDS, max_entries: int = 100_000) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[Hashable, bytes], tuple[str, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def choose(
        self,
        qr_key: Hashable,
        short_id: str,
        variants: Sequence[Variant],
        scanner: bytes,
        now: float,
    ) -> Variant:
        if len(variants) < 2:
            return variants[0]
        key = (qr_key, scanner)
        remembered = self._remembered(key, variants, now)
        if remembered is not None:
            return remembered
        # Expired, or its variant was removed: pick again, and remember the new one.
        self._entries.pop(key, None)
        chosen = pick_variant(variants, draw_for(scanner, short_id))
        self._trim(now)
        self._entries[key] = (chosen.label, now + self.ttl_seconds)
        return chosen

    def peek(
        self,
        qr_key: Hashable,
        short_id: str,
        variants: Sequence[Variant],
        scanner: bytes,
        now: float,
    ) -> Variant:
        """What `choose` would answer, remembering nothing (HEAD requests)."""
        if len(variants) < 2:
            return variants[0]
        remembered = self._remembered((qr_key, scanner), variants, now)
        return remembered or pick_variant(variants, draw_for(scanner, short_id))

    def _remembered(
        self, key: tuple[Hashable, bytes], variants: Sequence[Variant], now: float
    ) -> Variant | None:
        """The variant this scanner was given within the TTL, if it still exists."""
        entry = self._entries.get(key)
        if entry is None or now >= entry[1]:
            return None
        return next((variant for variant in variants if variant.label == entry[0]), None)

    def forget_qr(self, qr_key: Hashable) -> None:
        """Drop a deleted QR's entries (rare; a linear scan is fine)."""
        for key in [key for key in self._entries if key[0] == qr_key]:
            del self._entries[key]

    def _trim(self, now: float) -> None:
        entries = self._entries
        while entries:
            _, (_, expires_at) = next(iter(entries.items()))
            if expires_at > now and len(entries) < self.max_entries:
                break
            entries.popitem(last=False)
