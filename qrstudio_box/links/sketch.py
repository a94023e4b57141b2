"""Unique-scanner counts from the HyperLogLog registers kept by the scan rollups.

The rollups store, per (QR, day, bot flag, register), the largest `low_bit`: 2^(rank-1),
where the register is the low 10 bits of the 64-bit scanner hash and the rank is the
position of the lowest set bit above them. Days merge by max(), so any date range is one
GROUP BY over at most 1024 rows per day.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

REGISTER_BITS = 10
REGISTERS = 1 << REGISTER_BITS  # 1024: about 3.25% standard error
_ALPHA = 0.7213 / (1 + 1.079 / REGISTERS)


def register_and_low_bit(scanner: int) -> tuple[int, int]:
    """What the rollup SQL computes, in Python (tests check the two agree)."""
    rest = (scanner >> REGISTER_BITS) & ((1 << 54) - 1)
    return scanner & (REGISTERS - 1), (1 << 54) if rest == 0 else rest & -rest


def estimate_unique(registers: Iterable[tuple[int, int]]) -> int:
    """Estimate from (register, max low_bit) pairs; registers not listed are empty."""
    ranks = [0] * REGISTERS
    for register, low_bit in registers:
        ranks[register] = max(ranks[register], int(low_bit).bit_length())
    empty = ranks.count(0)
    if empty == REGISTERS:
        return 0
    raw = _ALPHA * REGISTERS * REGISTERS / sum(2.0**-rank for rank in ranks)
    if raw <= 2.5 * REGISTERS and empty:
        # Small counts: linear counting over empty registers is nearly exact.
        return round(REGISTERS * math.log(REGISTERS / empty))
    return round(raw)
