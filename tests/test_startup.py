"""Start-up mistakes on the real process: exit code 2 and ONE line on stderr that says what to
change (issue 15.2: a misspelt variable; 15.3: data_dir and port), never a traceback."""

from __future__ import annotations

import shutil
import socket
import subprocess

import pytest

from .conftest import ADMIN_EMAIL, ServerProcess


def the_one_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_misspelt_variable_stops_the_start_naming_the_closest_key(server_factory):
    server = server_factory(env={"QRSTUDIO_WEBHOOK_ALLOW_HTTP": "true"})
    line = the_one_line(server.run_until_exit())
    assert line == (
        "qrstudio-box: config error: QRSTUDIO_WEBHOOK_ALLOW_HTTP: unknown variable; "
        "did you mean QRSTUDIO_WEBHOOKS_ALLOW_HTTP?"
    )
    assert not server.data_dir.exists()


def test_a_busy_port_stops_the_start_before_the_first_admin_is_created(server_factory):
    server = server_factory(env={"QRSTUDIO_ADMIN_PASSWORD": ""})
    with socket.create_server(("127.0.0.1", 0)) as busy:
        server.port = busy.getsockname()[1]
        server.config["server"] = {"port": server.port}
        result = server.run_until_exit()
    assert the_one_line(result) == (
        f"qrstudio-box: port {server.port} on 127.0.0.1 is already in use (another "
        "qrstudio-box?): stop that process, or choose another port with --port or "
        "QRSTUDIO_SERVER_PORT"
    )
    assert "password" not in result.stdout
    assert not server.database_path.exists()
    # The retry with the port free is a first start: the admin's password is printed then.
    server.start()
    assert f"First start: created admin {ADMIN_EMAIL} with password " in server.output()


def data_dir_is_a_file(server: ServerProcess) -> tuple[str, ...]:
    server.data_dir.write_text("a file where the directory should be\n")
    return ()


def data_dir_under_a_file(server: ServerProcess) -> tuple[str, ...]:
    blocker = server.root / "blocker"
    blocker.write_text("a file where a parent directory should be\n")
    server.config["storage"]["data_dir"] = str(blocker / "data")
    return ()


def data_dir_read_only(server: ServerProcess) -> tuple[str, ...]:
    # The tests run as root, who writes through any permission bits; a read-only bind mount
    # (in a mount namespace of the server's own, gone with it) fails for root too.
    server.data_dir.mkdir()
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"]).returncode:
        pytest.skip("a read-only bind mount needs `unshare -m` (root with CAP_SYS_ADMIN)")
    script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    return ("unshare", "-m", "sh", "-c", script, str(server.data_dir))


@pytest.mark.parametrize(
    ("make_it_fail", "problem"),
    [
        (data_dir_is_a_file, "is a file, not a directory: point [storage] data_dir"),
        (data_dir_under_a_file, ": part of that path is a file, not a directory: point "),
        (data_dir_read_only, "is on a read-only file system: mount it read-write"),
    ],
    ids=["a-file", "under-a-file", "read-only"],
)
def test_an_unusable_data_dir_is_one_line_with_the_fix(server_factory, make_it_fail, problem):
    server = server_factory()
    wrapper = make_it_fail(server)
    line = the_one_line(server.run_until_exit(wrapper=wrapper))
    assert line.startswith(f"qrstudio-box: data_dir {server.data_dir}")
    assert problem in line
    assert "QRSTUDIO_STORAGE_DATA_DIR" in line
