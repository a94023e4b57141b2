"""Hostile input that needs no fuzzer: oversized bodies, broken JSON, odd unicode, traversal."""

import socket

import httpx
import pytest

from ..conftest import new_server


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory):
    server = new_server(tmp_path_factory.mktemp("hostile")).start()
    yield server
    server.stop()


def test_a_body_over_64_kb_is_refused_with_413_and_changes_nothing(client, admin_headers, sql):
    before = sql("SELECT count(*) FROM users")[0][0]
    body = '{"email": "big@example.com", "password": "' + "x" * 70_000 + '"}'
    response = client.post("/api/v1/admin/users/", headers={**admin_headers, "Content-Type": "application/json"},
                           content=body)
    assert response.status_code == 413
    assert response.json()["status_code"] == 413
    assert sql("SELECT count(*) FROM users")[0][0] == before


def test_a_body_over_64_kb_is_refused_by_the_real_server_too(shared_server):
    response = httpx.post(f"{shared_server.base_url}/api/v1/auth/token/", content=b"{" + b" " * 70_000 + b"}",
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 413


@pytest.mark.parametrize("body", [b"{bad", b"", b"[1,2", b'{"email": "a@example.com", "password": }', b"\xff\xfe"])
def test_malformed_json_is_a_400(client, admin_headers, sql, body):
    response = client.post("/api/v1/admin/users/", headers={**admin_headers, "Content-Type": "application/json"},
                           content=body)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert sql("SELECT count(*) FROM users")[0][0] == 1


@pytest.mark.parametrize(
    "email",
    ["zoë@exämple.com", "\u202eevil@example.com", "a" * 64 + "@" + "b" * 253, "nul\x00@example.com",
     "😀@example.com", "a@" + "é" * 300],
)
def test_odd_unicode_in_input_is_stored_faithfully_or_refused_cleanly(client, admin_headers, sql, email):
    response = client.post("/api/v1/admin/users/", headers=admin_headers,
                           json={"email": email, "password": "long-enough-1"})
    assert response.status_code in (201, 400), response.text
    if response.status_code == 201:
        stored = sql("SELECT email FROM users WHERE id = ?", (response.json()["user"]["id"],))[0][0]
        assert stored == email.strip().lower() == response.json()["user"]["email"]
    else:
        assert response.json()["field"] == "email"


@pytest.mark.parametrize(
    "path",
    ["/static/../qrstudio_box/config.py", "/static/..%2f..%2fetc%2fpasswd", "/static/%2e%2e/%2e%2e/etc/passwd",
     "/static/....//....//etc/passwd", "/static//etc/passwd", "/static/css/app.css/../../../pyproject.toml"],
)
def test_static_files_refuse_path_traversal(shared_server, path):
    # Sent raw (httpx would normalise the dots away), straight to the real server.
    with socket.create_connection(("127.0.0.1", shared_server.port)) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status = int(answer.split(b" ", 2)[1])
    assert status in (400, 404), answer[:200]
    assert b"root:" not in answer and b"[project]" not in answer and b"import" not in answer
