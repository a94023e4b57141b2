"""A module-scoped app for the table-driven tests, so each row does not pay for a new app and
new argon2 hashes. Rows must not depend on each other: compare counts before and after."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.clock import FakeClock
from qrstudio_box.config import Settings, settings_from_mapping
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD, Account, login

_emails = itertools.count(1)


@dataclass
class Shared:
    client: TestClient
    settings: Settings
    clock: FakeClock
    admin_headers: dict[str, str]
    conn: sqlite3.Connection

    def sql(self, statement: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(statement, params).fetchall()

    def count(self, table: str) -> int:
        return self.sql(f"SELECT count(*) FROM {table}")[0][0]

    def make_user(self, plan: str = "pro") -> Account:
        email = f"shared{next(_emails)}@example.com"
        response = self.client.post(
            "/api/v1/admin/users/",
            headers=self.admin_headers,
            json={"email": email, "password": MEMBER_PASSWORD, "plan": plan},
        )
        assert response.status_code == 201, response.text
        user = response.json()["user"]
        return Account(
            user["id"],
            email,
            MEMBER_PASSWORD,
            login(self.client, email, MEMBER_PASSWORD),
            plan,
            "member",
        )


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Iterator[Shared]:
    settings = settings_from_mapping(
        {"storage": {"data_dir": str(tmp_path_factory.mktemp("shared") / "data")}}
    )
    clock = FakeClock(datetime(2026, 5, 9, 14, 0, tzinfo=UTC))
    app = create_app(
        settings,
        clock=clock,
        env={"QRSTUDIO_ADMIN_EMAIL": ADMIN_EMAIL, "QRSTUDIO_ADMIN_PASSWORD": ADMIN_PASSWORD},
    )
    with TestClient(app, base_url="http://testserver.local") as client:
        conn = sqlite3.connect(settings.database_path)
        conn.row_factory = sqlite3.Row
        yield Shared(client, settings, clock, login(client, ADMIN_EMAIL, ADMIN_PASSWORD), conn)
        conn.close()


@pytest.fixture(scope="module")
def shared_user(shared) -> Account:
    return shared.make_user()
