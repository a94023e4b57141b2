# ruff: noqa
# The seed guide's Flask receiver, copied VERBATIM from shared/seed/webhooks-guide.txt
# ("Create a public endpoint on your server"). Do not edit: test_signing.py checks that it
# still equals the guide, and the delivery tests prove that this code accepts our deliveries.
from flask import Flask, request, abort
import hmac, hashlib, os

app = Flask(__name__)
WEBHOOK_SECRET = os.environ["QRSTUDIO_WEBHOOK_SECRET"]

@app.post("/qrstudio/webhook")
def webhook():
    sig = request.headers.get("X-QRStudio-Signature", "")
    body = request.get_data()
    if not _verify(sig, body):
        abort(401)

    event = request.get_json()
    if event["type"] == "scan.created":
        print(f"Scan on {event['data']['short_id']} from {event['data']['country']}")
        # ... your business logic here
    return "", 200


def _verify(header: str, body: bytes) -> bool:
    parts = dict(p.split("=", 1) for p in header.split(","))
    t, v1 = parts.get("t", ""), parts.get("v1", "")
    expected = hmac.new(
        WEBHOOK_SECRET.encode(),
        f"{t}.{body.decode()}".encode(),
        hashlib.sha256,
    ).hexdigest()
    return hmac.compare_digest(v1, expected)
