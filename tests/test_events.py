import asyncio
import json

import msgspec

from qrstudio_box import events
from qrstudio_box.clock import FakeClock
from qrstudio_box.db import Database


def test_emit_stores_exact_json_bytes_in_the_callers_transaction(tmp_path):
    clock = FakeClock()

    async def go():
        db = Database(tmp_path / "q.db", clock)
        await db.open()
        await db.write(
            lambda tx: tx.execute(
                "INSERT INTO workspaces (id, name, plan, created_at)"
                " VALUES (42, 'o@example.com', 'pro', 'now')"
            )
        )

        def change(tx):
            return events.emit(
                tx, 42, "dynamic_qr.created", {"short_id": "aBc12dEf", "owner_id": 42}
            )

        event = await db.write(change)
        row = await db.fetchone("SELECT * FROM events WHERE id = ?", (event.id,))

        def failing(tx):
            events.emit(tx, 42, "dynamic_qr.updated", {"short_id": "x"})
            raise RuntimeError("the change failed")

        try:
            await db.write(failing)
        except RuntimeError:
            pass
        count = (await db.fetchone("SELECT count(*) FROM events"))[0]
        await db.close()
        return event, row, count

    event, row, count = asyncio.run(go())
    assert event.id.startswith("evt_") and len(event.id) == 20
    assert bytes(row["body"]) == event.body
    assert list(json.loads(event.body)) == ["type", "id", "created_at", "data"]
    assert msgspec.json.decode(event.body) == {
        "type": "dynamic_qr.created",
        "id": event.id,
        "created_at": "2026-05-09T14:00:00Z",
        "data": {"short_id": "aBc12dEf", "owner_id": 42},
    }
    assert count == 1  # the failed change left no event behind
