"""Private key files in data_dir (JWT key, scanner salt, webhook secrets key).

Each is created once, readable by the owner only (0600), with O_EXCL so that two processes
starting at once cannot both write one; later starts read it back. They live beside the
database, not in it, so a copy of the database alone reveals none of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def read_or_create(path: Path, make: Callable[[], bytes]) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()
    with os.fdopen(fd, "wb") as out:
        out.write(make())
        out.flush()
        os.fsync(out.fileno())
    return path.read_bytes()
