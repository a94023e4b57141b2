import io
import json
import logging
import logging.config

import pytest

from qrstudio_box.logs import JsonLogFormatter, logging_config


def _capture(config: dict) -> io.StringIO:
    stream = io.StringIO()
    config["handlers"]["default"]["stream"] = stream
    logging.config.dictConfig(config)
    return stream


@pytest.fixture(autouse=True)
def _restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_time_level_logger_message_and_extras():
    stream = _capture(logging_config("info", "json"))
    logging.getLogger("qrstudio_box.webhooks").warning(
        "endpoint %s disabled", "wh_1", extra={"webhook_id": "wh_1", "failures": 7}
    )
    line = stream.getvalue().strip()
    entry = json.loads(line)
    assert list(entry)[:4] == ["time", "level", "logger", "message"]
    assert entry["level"] == "warning"
    assert entry["logger"] == "qrstudio_box.webhooks"
    assert entry["message"] == "endpoint wh_1 disabled"
    assert entry["webhook_id"] == "wh_1" and entry["failures"] == 7
    assert len(entry["time"]) == len("2026-05-09T14:01:23.451Z") and entry["time"].endswith("Z")
    assert "\n" not in line


def test_json_exception_is_one_line_with_the_traceback():
    stream = _capture(logging_config("info", "json"))
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        logging.getLogger("x").exception("failed")
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["message"] == "failed"
    assert "RuntimeError: boom" in entry["exception"]


def test_uvicorn_access_records_become_fields():
    formatter = JsonLogFormatter()
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "h11_impl.py",
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("203.0.113.7:5123", "GET", "/r/abc", "1.1", 302),
        None,
    )
    entry = json.loads(formatter.format(record))
    assert entry["message"] == '203.0.113.7:5123 - "GET /r/abc HTTP/1.1" 302'
    assert (entry["client"], entry["method"], entry["path"], entry["status"]) == (
        "203.0.113.7:5123",
        "GET",
        "/r/abc",
        302,
    )


def test_values_json_cannot_encode_are_written_as_repr():
    record = logging.LogRecord("x", logging.INFO, "f", 1, "m", None, None)
    record.thing = object()
    assert json.loads(JsonLogFormatter().format(record))["thing"].startswith("<object object")


def test_text_format_and_level_filter():
    stream = _capture(logging_config("warning", "text"))
    logging.getLogger("a").info("hidden")
    logging.getLogger("a").warning("shown")
    assert stream.getvalue().count("\n") == 1
    assert "WARNING a: shown" in stream.getvalue()


def test_uvicorn_loggers_reach_the_one_handler_and_scheduler_noise_does_not():
    stream = _capture(logging_config("info", "json"))
    logging.getLogger("uvicorn.access").info("GET /")
    logging.getLogger("uvicorn.error").info("started")
    logging.getLogger("apscheduler.executors.default").info("Running job")
    logging.getLogger("apscheduler.scheduler").error("job failed")
    loggers = [json.loads(line)["logger"] for line in stream.getvalue().splitlines()]
    assert loggers == ["uvicorn.access", "uvicorn.error", "apscheduler.scheduler"]


def test_debug_level_lets_scheduler_debug_through():
    stream = _capture(logging_config("debug", "text"))
    logging.getLogger("apscheduler.scheduler").debug("woke up")
    assert "woke up" in stream.getvalue()


@pytest.mark.parametrize(
    ("level", "fmt", "message"),
    [
        ("info", "xml", "logging.format"),
        ("loud", "json", "logging.level"),
    ],
)
def test_bad_values_name_the_key(level, fmt, message):
    with pytest.raises(ValueError, match=message):
        logging_config(level, fmt)


def test_the_real_server_logs_json_lines(server_factory):
    import httpx

    server = server_factory({"logging": {"format": "json", "access_log": True}}).start()
    assert httpx.get(f"{server.base_url}/healthz").status_code == 200
    assert server.stop() == 0
    entries = []
    for line in server.output().splitlines():
        if line.startswith("{"):
            entries.append(json.loads(line))  # every log line is one JSON object
        else:
            # Only the start banner (printed for people, not logged) is plain text.
            assert line.startswith(("QRStudio Box", "  ")), line
    access = [e for e in entries if e["logger"] == "uvicorn.access" and e["path"] == "/healthz"]
    assert access and access[-1]["status"] == 200 and access[-1]["method"] == "GET"
    assert any(
        e["logger"] == "uvicorn.error" and e["message"].startswith("Application startup")
        for e in entries
    )


def test_no_password_or_hash_reaches_the_log_even_at_debug(server_factory):
    """aiosqlite logs every call it runs at DEBUG, arguments included: a user being created or
    a password being changed passed its hash (and a generated password) through there."""
    import re
    import sqlite3

    import httpx

    server = server_factory({"logging": {"level": "debug", "access_log": True}}).start()
    base = server.base_url
    admin = server.token()
    typed = "typed-password-42"
    created = httpx.post(
        f"{base}/api/v1/admin/users/",
        headers=admin,
        json={"email": "typed@example.com", "password": typed},
    )
    assert created.status_code == 201, created.text
    generated = httpx.post(
        f"{base}/api/v1/admin/users/", headers=admin, json={"email": "generated@example.com"}
    )
    assert generated.status_code == 201, generated.text
    changed = "changed-password-42"
    patched = httpx.patch(
        f"{base}/api/v1/admin/users/{created.json()['user']['id']}/",
        headers=admin,
        json={"password": changed},
    )
    assert patched.status_code == 200, patched.text
    assert server.token("typed@example.com", changed)
    wrong = httpx.post(
        f"{base}/api/v1/auth/token/", json={"email": "typed@example.com", "password": typed}
    )
    assert wrong.status_code == 401
    with httpx.Client(base_url=base) as browser:
        form = browser.get("/admin/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        fields = {"email": "typed@example.com", "password": changed}
        signed_in = browser.post(
            "/admin/login", data={**fields, **({"csrf_token": csrf[1]} if csrf else {})}
        )
        assert signed_in.status_code in (302, 303), signed_in.text
    assert server.stop() == 0

    log = server.output()
    assert "aiosqlite" in log and "DEBUG" in log  # the debug lines are really there
    with sqlite3.connect(server.database_path) as conn:
        hashes = [row[0] for row in conn.execute("SELECT password_hash FROM users")]
    assert len(hashes) == 3
    secrets = [*hashes, typed, changed, generated.json()["password"]]
    for secret in secrets:
        assert secret not in log
    assert "$argon2" not in log
