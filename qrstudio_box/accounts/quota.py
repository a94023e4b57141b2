"""Monthly generation quotas. STUB: the quotas work replaces these bodies, keeping the contract.

charge_generation(tx, user, settings, now) runs inside the caller's write transaction: it
counts one generation and returns the RateLimit headers for the answer, or raises
ApiError(429) so that nothing in that transaction is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from ..config import Settings
from ..db import Tx
from .schemas import User


@dataclass(frozen=True)
class GenerationCharge:
    headers: dict[str, str] = field(default_factory=dict)


def charge_generation(tx: Tx, user: User, settings: Settings, now: datetime) -> GenerationCharge:
    return GenerationCharge()


def check_dynamic_qr_limit(tx: Tx, user: User, settings: Settings) -> None:
    return None
