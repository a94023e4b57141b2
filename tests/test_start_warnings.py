"""Issue 15.1 and 15.5: the real process says once, at start, what makes it unfit for the field:
short links pointing where phones cannot go, webhook testing switches left on."""

from __future__ import annotations

import re


def warning_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if re.search(r"\bWARNING\b", line)]


def test_local_public_url_and_testing_switches_warn_once_each(server_factory):
    server = server_factory(config={"webhooks": {"allow_http": True}}).start()
    server.stop()
    lines = warning_lines(server.output())
    public_url = [line for line in lines if "[server] public_url" in line]
    assert len(public_url) == 1, server.output()
    assert public_url[0].endswith(
        f"[server] public_url is not set (so http://127.0.0.1:{server.port}): every short link "
        "and QR code points at a local address phones cannot reach; set [server] public_url "
        "(or QRSTUDIO_SERVER_PUBLIC_URL) to the public address, e.g. https://qr.example.com"
    )
    switches = [line for line in lines if "[webhooks]" in line]
    assert len(switches) == 1 and switches[0].endswith(
        "[webhooks] allow_http is on: webhooks accept plain http:// URLs; for testing only, "
        "turn it off in production"
    ), server.output()
    assert len(lines) == 2, lines


def test_a_public_https_url_and_no_switches_start_without_warnings(server_factory):
    server = server_factory(config={"server": {"public_url": "https://qr.example.com"}}).start()
    server.stop()
    assert warning_lines(server.output()) == [], server.output()


def test_plain_http_public_url_gets_the_milder_line(server_factory):
    server = server_factory(config={"server": {"public_url": "http://qr.example.com"}}).start()
    server.stop()
    lines = warning_lines(server.output())
    assert len(lines) == 1 and lines[0].endswith(
        "[server] public_url is http://qr.example.com, plain http://: short links and QR codes "
        "work, but scanners' browsers may warn; serve over https and set it to the https:// "
        "address"
    ), server.output()
