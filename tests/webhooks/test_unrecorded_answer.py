"""A receiver answered 2xx but the appliance could not record it (a full disk): the attempt says
so, not "the appliance stopped", and the delivery is sent again once space returns (14.17).

The disk fills while the receiver holds its answer: the claim (attempt row written before the
send) had room, the record (the 4 KB of answer kept for the log) has none. Full is simulated
with SQLite's PRAGMA max_page_count on the app's writer, as in tests/ops/test_healthz.py.
"""

import threading

import pytest

from qrstudio_box.webhooks.dispatcher import INTERRUPTED, unrecorded_label

from ..ops.test_healthz import fill_the_database, make_room
from .receivers import Receiver, Reply

FULL = "database or disk is full"


@pytest.mark.parametrize(
    "status, send_error, label",
    [
        (
            200,
            "",
            f"The receiver answered 200, but the appliance could not record it ({FULL}); "
            "it is sent again, with the same event id",
        ),
        (
            503,
            "HTTP 503",
            f"The receiver answered 503, but the appliance could not record it ({FULL}); "
            "it is sent again, with the same event id",
        ),
        (
            None,
            "Read timed out",
            f"The attempt failed (Read timed out), but the appliance could not record it ({FULL}); "
            "it is sent again, with the same event id",
        ),
        (
            None,
            "",
            f"The attempt failed, but the appliance could not record it ({FULL}); "
            "it is sent again, with the same event id",
        ),
    ],
)
def test_unrecorded_label(status, send_error, label):
    assert unrecorded_label(status, send_error, FULL) == label


def test_an_answer_that_could_not_be_recorded_is_labelled_for_what_happened(
    client, ctx, fake_clock, pro, subscribe, emit, run_due, sql
):
    arrived, hold = threading.Event(), threading.Event()

    def answer(request):
        arrived.set()
        hold.wait(10)
        return Reply(status=200, body=b"ok " * 1400)  # ~4 KB kept: the record needs a new page

    with Receiver(responder=answer) as receiver:
        subscribe(pro, receiver.url)
        emit(pro.id)
        sending = client.blocking_portal.start_task_soon(ctx.webhooks.dispatcher.run_due)
        assert arrived.wait(10)  # claimed and sent: the attempt row exists, 'sending'
        fill_the_database(client, ctx.db)
        hold.set()
        sending.result(timeout=10)

        first = [tuple(row) for row in sql("SELECT outcome, error FROM delivery_attempts")]
        assert first == [
            (
                "interrupted",
                unrecorded_label(200, "", FULL),
            )
        ]
        assert [tuple(row) for row in sql("SELECT status FROM deliveries")] == [("pending",)]

        # Space returns; once the lease has run out the delivery goes out again and is recorded.
        make_room(client, ctx.db)
        fake_clock.advance(seconds=ctx.webhooks.dispatcher.lease_ms / 1000 + 1)
        run_due()
        assert len(receiver.requests) == 2
        assert receiver.requests[1].json()["id"] == receiver.requests[0].json()["id"]

    attempts = [
        tuple(row)
        for row in sql("SELECT outcome, error, response_status FROM delivery_attempts ORDER BY id")
    ]
    assert attempts == [
        ("interrupted", unrecorded_label(200, "", FULL), None),
        ("succeeded", "", 200),
    ]
    assert INTERRUPTED not in str(attempts)
    assert [tuple(row) for row in sql("SELECT status, attempts FROM deliveries")] == [
        ("succeeded", 1)
    ]
