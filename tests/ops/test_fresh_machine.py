"""A newcomer's machine (issue 15.9): `make test` brings the system packages it needs or says
the one command to run, and the README's commands work as written after `make run`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from ..conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "system-packages"


def run_script(*names: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["/bin/bash", str(SCRIPT), *names],
        capture_output=True,
        text=True,
        env={"PATH": str(path)},
        timeout=60,
    )


def fake_commands(folder: Path, *names: str) -> None:
    """Stand-ins on PATH: each records its arguments in folder/calls and succeeds."""
    folder.mkdir(exist_ok=True)
    for name in names:
        command = folder / name
        command.write_text(f'#!/bin/bash\necho "{name} $*" >> {folder}/calls\n')
        command.chmod(0o755)


def test_every_system_package_is_listed_in_one_script_that_make_test_and_ci_run():
    known = run_script("no-such-thing", path=Path("/nonexistent"))
    assert known.returncode == 2
    listed = re.search(r"\(known: (.*)\)", known.stderr)[1].split()
    assert set(listed) >= {"venv", "chromium", "caddy", "podman", "debootstrap", "wrk"}

    # .ci/run ensures every one of them, then runs make test.
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line[:1] != "#"]
    assert ci[-2:] == [".ci/system-packages", "make test"]
    # make test ensures Chromium before the linters and the tests.
    dry_run = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, timeout=60
    ).stdout.splitlines()
    ensure = dry_run.index(".ci/system-packages venv chromium")
    assert ensure < min(i for i, line in enumerate(dry_run) if "ruff" in line or "pytest" in line)
    # Nobody else installs system packages.
    for name in ("Makefile", ".ci/run", "Containerfile"):
        assert "apt-get install" not in (ROOT / name).read_text(), name


def test_a_missing_package_without_a_way_to_install_it_stops_with_the_one_command(tmp_path):
    # No python3, no chromium, no wrk, no apt-get on this PATH.
    result = run_script("venv", "chromium", "wrk", path=tmp_path)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        ".ci/system-packages: install them first: sudo apt-get install -y python3-venv chromium wrk"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="installing with apt-get is for root only")
def test_as_root_what_is_missing_is_installed_with_apt_get_and_nothing_else(tmp_path):
    fake_commands(tmp_path, "apt-get", "chromium")
    result = run_script("chromium", "podman", "debootstrap", path=tmp_path)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "calls").read_text().splitlines()
    assert calls == ["apt-get update -qq", "apt-get install -y -qq podman debootstrap"]


def test_nothing_is_installed_when_everything_is_there(tmp_path):
    fake_commands(tmp_path, "apt-get", "chromium", "caddy", "podman", "debootstrap", "wrk")
    (tmp_path / "python3").symlink_to(sys.executable)  # a Python with venv and ensurepip
    result = run_script(path=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / "calls").exists()


def readme_commands_after_make_run() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"in another terminal in the\s+checkout:\n\n```sh\n(.*?)```", text, re.S)
    assert block, "README: the commands to run while `make run` serves are gone"
    return block[1].splitlines()


def test_the_readme_commands_work_as_written_after_make_run(tmp_path):
    """In a checkout where `make run` serves: the same venv, config and working directory."""
    commands = readme_commands_after_make_run()
    assert all(command.startswith(".venv/bin/qrstudio-box ") for command in commands)
    assert "\t$(VENV)/bin/qrstudio-box run --config $(CONFIG)\n" in (ROOT / "Makefile").read_text()
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    (checkout / ".venv").symlink_to(Path(sys.prefix))
    (checkout / "qrstudio.toml").write_bytes((ROOT / "qrstudio.toml").read_bytes())
    env = {key: value for key, value in os.environ.items() if not key.startswith("QRSTUDIO_")}
    env["PYTHONPATH"] = str(ROOT)
    port = free_port()
    server = subprocess.Popen(
        [".venv/bin/qrstudio-box", "run", "--config", "qrstudio.toml"],
        cwd=checkout,
        env={**env, "QRSTUDIO_SERVER_PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "make run did not serve"
            time.sleep(0.1)
        outputs = []
        for command in commands:
            result = subprocess.run(
                command, shell=True, cwd=checkout, env=env, capture_output=True, text=True
            )
            assert result.returncode == 0, f"{command}: {result.stderr}"
            outputs.append(result.stdout)
        assert "admin@localhost" in outputs[0]
        assert outputs[1] == "admin@localhost: plan business\n"
        assert (checkout / "backups" / "first" / "qrstudio.db").is_file()
    finally:
        server.terminate()
        server.wait(timeout=10)
