"""A real `qrstudio-box run` SIGKILLed with deliveries in flight and queued delivers each after
restart."""

import time

import httpx

from qrstudio_box import events
from qrstudio_box.db import connect_sync, write_sync
from qrstudio_box.webhooks import outbox

from ..conftest import MEMBER_PASSWORD, wait_until
from .receivers import Receiver, Reply


def test_sigkill_with_pending_deliveries_then_restart_delivers_each(server_factory):
    with Receiver(delay=30.0) as receiver:  # hangs: deliveries stay in flight until the kill
        server = server_factory(
            config={
                "webhooks": {
                    "allow_http": True,
                    "allow_private_targets": True,
                    "timeout_seconds": 20.0,
                    "max_per_endpoint": 3,
                }
            }
        ).start()
        admin = server.token()
        created = httpx.post(
            f"{server.base_url}/api/v1/admin/users/",
            headers=admin,
            json={"email": "pro@example.com", "password": MEMBER_PASSWORD, "plan": "pro"},
        )
        assert created.status_code == 201, created.text
        owner_id = created.json()["user"]["id"]
        headers = server.token("pro@example.com", MEMBER_PASSWORD)
        hook = httpx.post(
            f"{server.base_url}/api/v1/webhooks/",
            headers=headers,
            json={"url": receiver.url, "events": ["scan.created"]},
        )
        assert hook.status_code == 201, hook.text

        # Events arrive while the server runs (another writer on the same WAL database).
        conn = connect_sync(server.database_path)
        fanned_out = events.Outbox()
        outbox.subscribe(fanned_out)  # this process has no dispatcher: fan-out only
        write_sync(
            conn,
            lambda tx: [events.emit(tx, owner_id, "scan.created", {"n": n}) for n in range(8)],
            outbox=fanned_out,
        )
        receiver.wait_for(3, timeout=20)  # the per-endpoint cap: 3 on the wire...
        rows = conn.execute("SELECT id, status FROM deliveries ORDER BY id").fetchall()
        assert len(rows) == 8 and {r["status"] for r in rows} == {"pending"}
        # ...3 more claimed and signed, waiting at the endpoint's gate (PREFETCH = 2), 2 unclaimed
        wait_until(
            lambda: (
                conn.execute(
                    "SELECT count(*) FROM deliveries WHERE lease_token IS NOT NULL"
                ).fetchone()[0]
                == 6
            ),
            what="6 leases",
        )
        time.sleep(0.3)
        assert (len(receiver.requests), receiver.max_in_flight) == (3, 3)
        server.kill()

        receiver.reply = Reply(200)
        server.start()

        def all_succeeded():
            statuses = [r[0] for r in conn.execute("SELECT status FROM deliveries")]
            return statuses == ["succeeded"] * 8

        wait_until(all_succeeded, what="every delivery to succeed after the restart")
        delivered = {r.headers["x-qrstudio-delivery-id"] for r in receiver.requests[3:]}
        assert delivered == {str(r["id"]) for r in rows}
        outcomes = conn.execute(
            "SELECT outcome, count(*) FROM delivery_attempts GROUP BY outcome ORDER BY outcome"
        ).fetchall()
        # each leased attempt is marked interrupted: the 3 on the wire and the 3 at the gate
        assert [tuple(o) for o in outcomes] == [("interrupted", 6), ("succeeded", 8)]
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.close()
        server.stop()
