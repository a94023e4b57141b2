"""The Containerfile, checked without a container engine (fast; test_container_image.py
builds it and starts the image).

We parse it the way an engine does (comments dropped, backslash continuations joined,
one instruction per logical line) and assert what an operator relies on. The HEALTHCHECK
command is not only read but run, against a local HTTP server answering 200 and then 503.
"""

from __future__ import annotations

import http.server
import json
import shlex
import subprocess
import sys
import threading
import typing
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONTAINERFILE = ROOT / "Containerfile"


def parse_instructions(text: str) -> list[tuple[str, str]]:
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):  # comment inside a continued instruction
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical = (pending + line).strip()
        pending = ""
        keyword, _, args = logical.partition(" ")
        instructions.append((keyword.upper(), args.strip()))
    assert not pending, "Containerfile ends inside a continued line"
    return instructions


def final_stage(instructions: list[tuple[str, str]]) -> list[tuple[str, str]]:
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    return instructions[last_from:]


def env_of(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for kw, args in stage:
        if kw == "ENV":
            for item in shlex.split(args):
                key, sep, value = item.partition("=")
                assert sep, f"ENV without '=' is ambiguous: {item!r}"
                env[key] = value
    return env


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value)
    return value


@pytest.fixture(scope="module")
def stage() -> list[tuple[str, str]]:
    return final_stage(parse_instructions(CONTAINERFILE.read_text()))


def test_every_stage_uses_a_slim_python_base():
    bases = [
        args.split()[0]
        for kw, args in parse_instructions(CONTAINERFILE.read_text())
        if kw == "FROM"
    ]
    assert bases, "no FROM"
    for base in bases:
        image, _, tag = base.partition(":")
        assert image == "python"
        assert "slim" in tag
        assert tag.split("-")[0].startswith("3.1")


def test_runs_as_a_non_root_user(stage):
    users = [args for kw, args in stage if kw == "USER"]
    assert users, "the final stage never switches away from root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    # The user must exist before the switch: a useradd in a RUN before USER.
    user_index = stage.index(("USER", users[-1]))
    assert any(
        kw == "RUN" and "useradd" in args and user in args for kw, args in stage[:user_index]
    )


def test_data_volume_and_config_path(stage):
    volumes = [
        exec_form(args) if args.startswith("[") else args.split()
        for kw, args in stage
        if kw == "VOLUME"
    ]
    assert ["/data"] in volumes
    env = env_of(stage)
    assert env["QRSTUDIO_STORAGE_DATA_DIR"] == "/data"
    config_path = env["QRSTUDIO_CONFIG"]
    copies = [args.split() for kw, args in stage if kw == "COPY"]
    assert ["qrstudio.toml", config_path] in copies, (
        "the config named by QRSTUDIO_CONFIG is not copied in"
    )


def test_listens_on_all_interfaces_and_exposes_its_port(stage):
    env = env_of(stage)
    assert env["QRSTUDIO_SERVER_HOST"] == "0.0.0.0"
    exposed = [args.split()[0].split("/")[0] for kw, args in stage if kw == "EXPOSE"]
    assert exposed == [env["QRSTUDIO_SERVER_PORT"]]


def test_starts_qrstudio_box_run_in_exec_form(stage):
    entrypoint = [exec_form(args) for kw, args in stage if kw == "ENTRYPOINT"]
    cmd = [exec_form(args) for kw, args in stage if kw == "CMD"]
    assert entrypoint[-1] + cmd[-1] == ["qrstudio-box", "run"]


def test_copied_sources_exist():
    for kw, args in parse_instructions(CONTAINERFILE.read_text()):
        if kw == "COPY" and not args.startswith("--from"):
            *sources, _dest = args.split()
            for source in sources:
                assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def healthcheck_command(stage) -> list[str]:
    checks = [args for kw, args in stage if kw == "HEALTHCHECK"]
    assert len(checks) == 1
    options, _, command = checks[0].partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    argv = exec_form(command)
    assert argv[0] == "python", "the slim image has no curl: the check must use python"
    assert "/healthz" in argv[-1] and "urllib" in argv[-1]
    return argv


class _Healthz(http.server.BaseHTTPRequestHandler):
    status = 200
    paths: typing.ClassVar[list[str]] = []

    def do_GET(self):
        type(self).paths.append(self.path)
        body = json.dumps({"status": "ok" if self.status == 200 else "down"}).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize(("status", "exit_code"), [(200, 0), (503, 1)])
def test_healthcheck_command_really_checks_healthz(stage, status, exit_code):
    argv = healthcheck_command(stage)
    handler = type("Handler", (_Healthz,), {"status": status, "paths": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {"QRSTUDIO_SERVER_PORT": str(server.server_address[1])}
        result = subprocess.run(
            [sys.executable, *argv[1:]], env=env, capture_output=True, timeout=30, check=False
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == exit_code, result.stderr.decode()
    assert handler.paths == ["/healthz"]


def test_the_build_stage_context_makes_a_complete_wheel(tmp_path):
    """Copy exactly what the build stage COPYs, run its `pip wheel`, and look inside:
    a file the Containerfile forgot to copy shows up here as a missing wheel entry."""
    import shutil
    import zipfile

    instructions = parse_instructions(CONTAINERFILE.read_text())
    first_from = next(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    second_from = next(
        i for i, (kw, _) in enumerate(instructions) if kw == "FROM" and i > first_from
    )
    build_stage = instructions[first_from:second_from]
    context = tmp_path / "src"
    context.mkdir()
    for kw, args in build_stage:
        if kw == "COPY":
            *sources, dest = args.split()
            for source in sources:
                target = context / (
                    Path(source).name if dest.endswith("/") or dest == "./" else dest
                )
                if (ROOT / source).is_dir():
                    shutil.copytree(
                        ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
                    )
                else:
                    shutil.copy2(ROOT / source, target)
    assert any(kw == "RUN" and "pip wheel" in args for kw, args in build_stage)
    wheels = tmp_path / "wheels"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--quiet",
            "--wheel-dir",
            str(wheels),
            ".",
        ],
        cwd=context,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    (wheel,) = wheels.glob("qrstudio_box-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        f"qrstudio_box/static/{p.relative_to(ROOT / 'static')}"
        for p in (ROOT / "static").rglob("*")
        if p.is_file()
    }
    expected |= {
        str(p.relative_to(ROOT))
        for p in (ROOT / "qrstudio_box").rglob("*")
        if p.is_file() and p.suffix in (".sql", ".html", ".py") and "__pycache__" not in p.parts
    }
    assert expected <= names, sorted(expected - names)[:10]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert (
        "qrstudio-box = qrstudio_box.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()
    )
