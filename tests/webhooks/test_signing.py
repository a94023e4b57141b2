"""Signatures: the guide's own Flask verifier and the standardwebhooks library accept ours."""

import base64
import importlib.util
import os
import re
import time
from pathlib import Path

import pytest
import standardwebhooks

from qrstudio_box.webhooks import signing

BODY = (
    '{"type":"scan.created","id":"evt_aBc12dEf34567890","created_at":"2026-05-09T14:01:23Z",'
    '"data":{"short_id":"aBc12dEf","name":"Spring menu \u00e9t\u00e9 \u2615","country":"CA"}}'
).encode("utf-8")


def guide_app(secret: str):
    """A fresh import of the guide's Flask module (verbatim) with its env var set."""
    source = Path(__file__).with_name("guide_flask_app.py")
    spec = importlib.util.spec_from_file_location(f"guide_{secret[-6:]}", source)
    module = importlib.util.module_from_spec(spec)
    os.environ["QRSTUDIO_WEBHOOK_SECRET"] = secret
    try:
        spec.loader.exec_module(module)
    finally:
        del os.environ["QRSTUDIO_WEBHOOK_SECRET"]
    return module


def headers_for(secret: str, timestamp: int | None = None) -> dict[str, str]:
    return signing.delivery_headers(
        secret=secret,
        body=BODY,
        event_id="evt_aBc12dEf34567890",
        event_type="scan.created",
        delivery_id=17,
        timestamp=int(time.time()) if timestamp is None else timestamp,
        user_agent="QRStudio-Webhooks/0.1.0",
    )


def test_secret_format():
    secret = signing.new_secret()
    assert re.fullmatch(r"whsec_[A-Za-z0-9+/]{32}", secret)
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert signing.new_secret() != secret


def test_header_formats():
    secret = signing.new_secret()
    headers = headers_for(secret, timestamp=1778335283)
    assert re.fullmatch(r"t=1778335283,v1=[0-9a-f]{64}", headers["X-QRStudio-Signature"])
    assert re.fullmatch(r"v1,[A-Za-z0-9+/]{43}=", headers["webhook-signature"])
    assert headers["webhook-id"] == "evt_aBc12dEf34567890"
    assert headers["webhook-timestamp"] == "1778335283"
    assert headers["X-QRStudio-Event"] == "scan.created"
    assert headers["X-QRStudio-Delivery-Id"] == "17"
    assert headers["Content-Type"] == "application/json"
    assert headers["User-Agent"] == "QRStudio-Webhooks/0.1.0"


def test_guide_verify_function_accepts_and_rotated_secret_fails():
    secret, rotated = signing.new_secret(), signing.new_secret()
    header = headers_for(secret)["X-QRStudio-Signature"]
    assert guide_app(secret)._verify(header, BODY) is True
    assert guide_app(rotated)._verify(header, BODY) is False
    assert guide_app(secret)._verify(header, BODY.replace(b"CA", b"US")) is False


def test_guide_flask_app_accepts_through_its_route():
    secret = signing.new_secret()
    client = guide_app(secret).app.test_client()
    ok = client.post("/qrstudio/webhook", data=BODY, headers=headers_for(secret))
    assert ok.status_code == 200
    forged = client.post("/qrstudio/webhook", data=BODY, headers=headers_for(signing.new_secret()))
    assert forged.status_code == 401


def test_standardwebhooks_library_verifies_and_rejects_rotated():
    secret = signing.new_secret()
    headers = headers_for(secret)
    payload = standardwebhooks.Webhook(secret).verify(BODY, headers)
    assert payload["type"] == "scan.created"
    with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
        standardwebhooks.Webhook(signing.new_secret()).verify(BODY, headers)


def test_redaction_hides_both_signatures_and_keeps_timestamp():
    headers = headers_for(signing.new_secret(), timestamp=1778335283)
    shown = signing.redact_headers(headers)
    assert shown["X-QRStudio-Signature"] == "t=1778335283,v1=[redacted]"
    assert shown["webhook-signature"] == "v1,[redacted]"
    assert shown["webhook-id"] == headers["webhook-id"]
    assert headers["X-QRStudio-Signature"] not in str(shown)


GUIDE_CANDIDATES = [
    Path(__file__).resolve().parents[2] / ".." / "shared" / "seed" / "webhooks-guide.txt",
    Path("/work/shared/seed/webhooks-guide.txt"),
]


def test_guide_copy_is_verbatim():
    guide = next((p for p in GUIDE_CANDIDATES if p.exists()), None)
    if guide is None:
        pytest.skip("shared/seed/webhooks-guide.txt is not beside the repository")
    text = guide.read_text()
    start = text.index("from flask import Flask")
    end = text.index("return hmac.compare_digest(v1, expected)") + len(
        "return hmac.compare_digest(v1, expected)"
    )
    from_guide = text[start:end].strip()
    ours = Path(__file__).with_name("guide_flask_app.py").read_text()
    ours_code = ours[ours.index("from flask import Flask") :].strip()
    assert ours_code == from_guide
