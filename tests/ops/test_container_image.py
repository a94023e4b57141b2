"""The Containerfile built and its image started (issue 15.10), not only parsed.

There is no image registry here, so the Containerfile's base image is a stand-in made the way
the official one is: Debian bookworm (debootstrap minbase with python3, pip, venv and CA
certificates), `python`/`pip` on the PATH, pip allowed to install system-wide, imported under
the base image's name. `podman build` then builds the Containerfile as written. This machine's
container runtime cannot set rlimits, so instead of `podman run` the built image's filesystem
(`podman create` + `podman mount`) is started with `chroot --userspec=10001:10001`, the image's
environment, working directory and entrypoint, and a host directory bind-mounted on its volume.

Everything slow is cached outside the repository, in CACHE (the debootstrap tree and a podman
store of our own, so the stand-in never shadows a real image in the machine's store): the
first run takes a few minutes, later ones rebuild only our layers. Needs root; podman and
debootstrap are installed by .ci/system-packages when missing, and the test is skipped (saying
why) only when that is not possible.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ..conftest import free_port, wait_until
from .test_containerfile import parse_instructions

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path("/var/cache/qrstudio-test")
ROOTFS = CACHE / "bookworm-minbase-python"
PODMAN = [
    "podman",
    "--root",
    str(CACHE / "containers"),
    "--runroot",
    "/run/qrstudio-test/containers",
]
IMAGE = "localhost/qrstudio-box-test:latest"
MIRROR = "http://deb.debian.org/debian"
APP_UID = 10001
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
# Change it when make_stand_in_base changes, so that the cached base is made again.
STAND_IN_RECIPE = b"1: links, pip.conf, host CA bundle"

pytestmark = pytest.mark.timeout(1200)


def run(*command: str, **options) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, **options)
    if result.returncode != 0:
        raise AssertionError(f"{' '.join(command)} exited {result.returncode}:\n{result.stderr}")
    return result


def podman(*args: str, **options) -> subprocess.CompletedProcess:
    return run(*PODMAN, *args, **options)


def base_image_names() -> set[str]:
    """The images the Containerfile builds FROM (stage names excluded)."""
    instructions = parse_instructions((ROOT / "Containerfile").read_text())
    froms = [args.split() for keyword, args in instructions if keyword == "FROM"]
    stages = {words[2] for words in froms if len(words) == 3 and words[1].upper() == "AS"}
    return {words[0] for words in froms} - stages


@pytest.fixture(scope="module")
def tools() -> None:
    if os.geteuid() != 0:
        pytest.skip("building and starting the image needs root (podman build, chroot, mount)")
    if not all(shutil.which(tool) for tool in ("podman", "debootstrap", "chroot", "unshare")):
        installed = subprocess.run(
            [str(ROOT / ".ci" / "system-packages"), "podman", "debootstrap"],
            capture_output=True,
            text=True,
        )
        if installed.returncode != 0:
            pytest.skip(
                "podman and debootstrap cannot be installed here: "
                + installed.stderr.strip().splitlines()[-1]
            )


def make_stand_in_base(name: str) -> None:
    """Debian bookworm with Python, shaped like the official python image, as `name`."""
    # The label says which recipe (and which CA bundle) made the image in the cache.
    recipe = hashlib.sha256(STAND_IN_RECIPE + HOST_CA_BUNDLE.read_bytes()).hexdigest()[:16]
    label = '{{index .Labels "qrstudio.stand-in"}}'
    found = subprocess.run(
        [*PODMAN, "image", "inspect", "--format", label, name], capture_output=True, text=True
    )
    if found.returncode == 0 and found.stdout.strip() == recipe:
        return
    if not ROOTFS.is_dir():
        partial = ROOTFS.with_name(ROOTFS.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        CACHE.mkdir(parents=True, exist_ok=True)
        run(
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-pip,python3-venv,ca-certificates",
            "bookworm",
            str(partial),
            MIRROR,
        )
        partial.rename(ROOTFS)  # only a finished tree gets the cached name
    # What the official image has and Debian's tree has not: `python` and `pip`, and pip
    # installing into the system (Debian marks its Python externally managed).
    for link, target in (("python", "/usr/bin/python3"), ("pip", "/usr/bin/pip3")):
        path = ROOTFS / "usr" / "local" / "bin" / link
        if not path.is_symlink():
            path.symlink_to(target)
    (ROOTFS / "etc" / "pip.conf").write_text("[global]\nbreak-system-packages = true\n")
    # Trust what this machine trusts: the build's pip reaches PyPI through the same network,
    # which may inspect TLS with a CA of its own (as it does on our CI machine).
    shutil.copyfile(HOST_CA_BUNDLE, ROOTFS / HOST_CA_BUNDLE.relative_to("/"))
    for deb in (ROOTFS / "var" / "cache" / "apt" / "archives").glob("*.deb"):
        deb.unlink()
    tar = subprocess.Popen(["tar", "-C", str(ROOTFS), "-c", "."], stdout=subprocess.PIPE)
    podman(
        "import",
        "--change",
        "ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--change",
        "ENV=LANG=C.UTF-8",
        "--change",
        'CMD=["python3"]',
        "--change",
        f"LABEL=qrstudio.stand-in={recipe}",
        "-",
        name,
        stdin=tar.stdout,
    )
    assert tar.wait() == 0


@pytest.fixture(scope="module")
def image(tools) -> dict:
    started = time.monotonic()
    for name in base_image_names():
        make_stand_in_base(name)
    based = time.monotonic()
    # --format docker: the OCI image format has no HEALTHCHECK (podman would drop it).
    podman(
        "build",
        "--isolation=chroot",
        "--network=host",
        "--pull=never",
        "--format=docker",
        "--tag",
        IMAGE,
        "--file",
        str(ROOT / "Containerfile"),
        str(ROOT),
    )
    # The build before this one is now untagged: keep the cache from growing without bound.
    podman("image", "prune", "--force")
    print(f"\nstand-in base {based - started:.0f} s, build {time.monotonic() - based:.0f} s")
    return json.loads(podman("image", "inspect", IMAGE).stdout)[0]


@pytest.fixture
def image_root(image) -> Iterator[Path]:
    container = podman("create", IMAGE).stdout.strip()
    try:
        yield Path(podman("mount", container).stdout.strip())
    finally:
        subprocess.run([*PODMAN, "umount", container], capture_output=True)
        subprocess.run([*PODMAN, "rm", "--force", container], capture_output=True)


def image_env(config: dict, **overrides: str) -> dict[str, str]:
    env = dict(item.split("=", 1) for item in config["Env"])
    return {**env, **overrides}


def status_ids(pid: int) -> dict[str, list[int]]:
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines)
    return {key: [int(part) for part in fields[key].split()] for key in ("Uid", "Gid")}


def test_the_built_image_serves_as_its_unprivileged_user_with_data_on_the_volume(
    image, image_root, tmp_path
):
    config = image["Config"]
    assert config["User"] == "qrstudio:qrstudio"
    assert "/data" in config["Volumes"]
    volume = tmp_path / "volume"  # what an operator bind-mounts on /data
    volume.mkdir()
    os.chown(volume, APP_UID, APP_UID)
    port = free_port()
    # The chroot shares this machine's network: listen on the loopback (the image says 0.0.0.0)
    # and on a free port, as `podman run -e ...` would set them.
    env = image_env(config, QRSTUDIO_SERVER_PORT=str(port), QRSTUDIO_SERVER_HOST="127.0.0.1")
    command = [*config["Entrypoint"], *(config.get("Cmd") or [])]
    user = f"--userspec={APP_UID}:{APP_UID}"
    # A mount namespace of its own: the volume's bind mount goes away with the process. Each
    # step execs the next, so the pid we hold is the appliance's.
    start = (
        'mount --bind "$1" "$2/data" && '
        'exec chroot "$3" "$2" /bin/sh -c \'cd "$0" && exec "$@"\' "$4" "${@:5}"'
    )
    server = subprocess.Popen(
        ["unshare", "-m", "bash", "-c", start, "bash", str(volume), str(image_root), user]
        + [config["WorkingDir"], *command],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert server.poll() is None, server.stdout.read()
            try:
                return httpx.get(f"{base}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, timeout=60, what="/healthz of the image's process")
        assert httpx.get(f"{base}/healthz").json()["status"] == "ok"
        # The wheel carries the static files and templates.
        assert httpx.get(f"{base}/static/css/app.css").status_code == 200
        assert httpx.get(f"{base}/admin/login").status_code == 200

        # The image runs this tree's code, not a layer cached from an older build.
        (installed,) = image_root.glob("usr/local/lib/python3*/*-packages/qrstudio_box")
        sources = sorted(path.relative_to(ROOT) for path in (ROOT / "qrstudio_box").rglob("*.py"))
        stale = [
            str(path)
            for path in sources
            if not (installed.parent / path).is_file()
            or (installed.parent / path).read_bytes() != (ROOT / path).read_bytes()
        ]
        assert stale == []

        assert status_ids(server.pid) == {"Uid": [APP_UID] * 4, "Gid": [APP_UID] * 4}
        database = volume / "qrstudio.db"
        assert database.is_file()
        for path in (database, volume / "jwt.key"):
            assert path.stat().st_uid == APP_UID, path
        assert not (image_root / "data" / "qrstudio.db").exists()

        healthcheck = image["Healthcheck"]["Test"]
        assert healthcheck[0] == "CMD"
        check = ["chroot", user, str(image_root), *healthcheck[1:]]
        assert subprocess.run(check, env=env, capture_output=True).returncode == 0

        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=20) == 0
        # The same check fails once nothing answers: it can tell.
        assert subprocess.run(check, env=env, capture_output=True).returncode != 0
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
