"""The README's "Sixty seconds with the API" runs as written (bash, curl, jq) against a real
server: the token makes an API key, and every call after it uses the key."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from ..conftest import ADMIN_PASSWORD
from ..qr.qr_images import decode_png, decode_svg

README = Path(__file__).resolve().parents[2] / "README.md"


def sixty_seconds() -> str:
    text = README.read_text()
    block = re.search(r"## Sixty seconds with the API\n\n```sh\n(.*?)```", text, re.S)
    assert block, "README: the sixty seconds block is gone"
    return block[1]


@pytest.mark.skipif(
    not (shutil.which("curl") and shutil.which("jq")), reason="needs curl and jq on PATH"
)
def test_the_sixty_seconds_run_as_written_with_an_api_key(server_factory, tmp_path):
    server = server_factory(env={"QRSTUDIO_ADMIN_EMAIL": "admin@localhost"}).start()
    script = sixty_seconds()
    # After the sign-in and the key, no call uses the token.
    after_key = script.split("| jq -r .key)", 1)[1]
    assert "$TOKEN" not in after_key and after_key.count('"Authorization: Bearer $KEY"') == 5
    script = script.replace("localhost:8080", server.base_url.removeprefix("http://"))
    script = script.replace("<printed at first start>", ADMIN_PASSWORD)
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script + '\necho "KEY=$KEY SHORT_ID=$SHORT_ID"'],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    found = re.search(r"KEY=(qsb_[0-9A-Za-z]{43}) SHORT_ID=([0-9A-Za-z]{8})$", run.stdout)
    assert found, run.stdout
    short_id = found[2]
    assert decode_png((tmp_path / "qr.png").read_bytes()) == f"{server.base_url}/r/{short_id}"
    assert decode_svg((tmp_path / "qr.svg").read_bytes()) == "https://example.com"
    assert f'{{"short_id":"{short_id}","from":' in run.stdout  # the stats answered the key
    # The webhook was the key's to create (its scopes hold webhooks): made, or refused only for
    # its example URL (this test box resolves no public name).
    assert "whsec_" in run.stdout or "url: host crm.example.com does not resolve" in run.stdout
    assert '"status_code":401' not in run.stdout and '"status_code":403' not in run.stdout
