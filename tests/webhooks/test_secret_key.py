"""The key file of secrets at rest: kept across restarts; a lost key never stops the appliance."""

from litestar.testing import TestClient

from qrstudio_box.app import create_app
from qrstudio_box.webhooks.secretbox import KEY_FILE_NAME

from ..conftest import ADMIN_EMAIL, ADMIN_PASSWORD, MEMBER_PASSWORD, login
from .conftest import DNS
from .receivers import Receiver

ENV = {"QRSTUDIO_ADMIN_EMAIL": ADMIN_EMAIL, "QRSTUDIO_ADMIN_PASSWORD": ADMIN_PASSWORD}


def started(settings, fake_clock):
    client = TestClient(create_app(settings, clock=fake_clock, env=ENV), base_url="http://t.local")
    client.__enter__()
    client.app.state.ctx.webhooks.resolver = DNS()
    return client


def test_restart_keeps_secrets_and_a_lost_key_only_stops_signing(settings, fake_clock, caplog):
    with Receiver() as receiver:
        client = started(settings, fake_clock)
        admin = login(client, ADMIN_EMAIL, ADMIN_PASSWORD)
        client.post(
            "/api/v1/admin/users/",
            headers=admin,
            json={"email": "p@example.com", "password": MEMBER_PASSWORD, "plan": "pro"},
        )
        pro = login(client, "p@example.com", MEMBER_PASSWORD)
        hook = client.post(
            "/api/v1/webhooks/", headers=pro, json={"url": receiver.url, "events": ["scan.created"]}
        ).json()
        client.__exit__(None, None, None)

        client = started(settings, fake_clock)  # same key file: the stored secret still signs
        test = client.post(f"/api/v1/webhooks/{hook['id']}/test/", headers=pro).json()
        assert test["outcome"] == "succeeded"
        client.__exit__(None, None, None)

        (settings.data_dir / KEY_FILE_NAME).unlink()
        client = started(settings, fake_clock)
        assert client.get("/healthz").status_code == 200
        assert f"{KEY_FILE_NAME} is missing" in caplog.text
        test = client.post(f"/api/v1/webhooks/{hook['id']}/test/", headers=pro).json()
        assert test["outcome"] == "failed" and test["error"].startswith(
            "Not sent: the webhook secret does not decrypt"
        )
        assert len(receiver.requests) == 1
        rotated = client.post(f"/api/v1/webhooks/{hook['id']}/rotate/", headers=pro).json()
        test = client.post(f"/api/v1/webhooks/{hook['id']}/test/", headers=pro).json()
        assert test["outcome"] == "succeeded"
        assert receiver.requests[-1].headers["x-qrstudio-signature"]
        assert rotated["secret"] != hook["secret"]
        client.__exit__(None, None, None)
