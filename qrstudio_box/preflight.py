"""Start-up checks for the usual operator mistakes, each one line that says how to fix it.

`qrstudio-box run` calls them before it touches the database: a data_dir that is a file or
not writable (the classic container bind mount) and a port already in use would otherwise
end in a traceback, the port one only AFTER the first admin was created and its password
printed, so that a retry would lose that password.
"""

from __future__ import annotations

import errno
import os
import socket
import tempfile
from pathlib import Path

DATA_DIR_KEYS = "[storage] data_dir or QRSTUDIO_STORAGE_DATA_DIR"


class StartupError(Exception):
    """One line: what is wrong and how to fix it."""


def prepare_data_dir(data_dir: Path) -> None:
    """Create data_dir when missing and prove this user can create files in it."""
    path = data_dir.absolute()
    if path.exists() and not path.is_dir():
        raise StartupError(
            f"data_dir {path} is a file, not a directory: point {DATA_DIR_KEYS} at a "
            "directory (in a container, mount a directory on the volume, not a file)"
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        # Writing a file is the only proof: root passes every permission bit, a read-only
        # mount or an ownership mismatch in a container passes os.access.
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as error:
        if error.errno == errno.ENOTDIR:
            raise StartupError(
                f"data_dir {path}: part of that path is a file, not a directory: "
                f"point {DATA_DIR_KEYS} at a directory"
            ) from None
        if error.errno == errno.EROFS:
            raise StartupError(
                f"data_dir {path} is on a read-only file system: mount it read-write "
                f"(a container volume without :ro) or set {DATA_DIR_KEYS}"
            ) from None
        if error.errno in (errno.EACCES, errno.EPERM):
            uid = os.getuid()
            raise StartupError(
                f"data_dir {path} is not writable by this user (uid {uid}: {error.strerror}): "
                f"make it writable (chown {uid} {path}; for the container image, "
                f"chown 10001:10001 the host directory) or set {DATA_DIR_KEYS}"
            ) from None
        raise StartupError(
            f"data_dir {path}: {error.strerror}: fix that directory or set {DATA_DIR_KEYS}"
        ) from None


def listen_socket(host: str, port: int) -> socket.socket:
    """The server's listening socket, bound now, so a port in use stops the start at once."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as error:
        raise StartupError(
            f"server.host {host!r}: not an address of this machine ({error.strerror}): "
            "set --host or QRSTUDIO_SERVER_HOST (127.0.0.1 behind a proxy, 0.0.0.0 for all)"
        ) from None
    try:
        # SO_REUSEADDR (set by create_server) lets a restart reuse the port at once, but
        # never lets two processes listen on it.
        sock = socket.create_server((host, port), family=family, backlog=2048)
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            raise StartupError(
                f"port {port} on {host} is already in use (another qrstudio-box?): stop that "
                "process, or choose another port with --port or QRSTUDIO_SERVER_PORT"
            ) from None
        if error.errno == errno.EACCES:
            raise StartupError(
                f"port {port} needs privileges this user does not have: use a port above 1023 "
                "(--port or QRSTUDIO_SERVER_PORT) behind a reverse proxy"
            ) from None
        raise StartupError(
            f"cannot listen on {host}:{port} ({error.strerror}): "
            "check --host/QRSTUDIO_SERVER_HOST and --port/QRSTUDIO_SERVER_PORT"
        ) from None
    return sock
