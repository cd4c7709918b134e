"""Starting the server: where it listens and the names it answers to.

Loopback (127.0.0.1) unless the caller asked for another address by name (`--host`); then
the warning that there is no authentication. uvicorn is imported here only.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path

from pipectl.errors import UsageError

DEFAULT_HOST = "127.0.0.1"
NO_AUTH = (
    "pipectl serve has no authentication: anyone who can reach {host}:{port} can read "
    "and change the pipeline; put it behind a reverse proxy that authenticates (docs/serve.md)"
)


def is_loopback(host: str) -> bool:
    """Whether `host` is this machine only (127.0.0.0/8, ::1, localhost)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, explicit: bool) -> str | None:
    """The warning to print for listening on `host`, or None; a non-loopback address that
    was not asked for with --host is refused, and so is a wildcard (0.0.0.0, ::): the app
    answers only to the name it listens on, and a wildcard is no name."""
    if is_loopback(host):
        return None
    if _wildcard(host):
        raise UsageError(
            f"--host {host} listens on every address and answers to no name: give the address "
            "or the name browsers will use (--host 192.168.1.5, --host pipeline.lan)"
        )
    if not explicit:
        raise UsageError(
            f"refusing to listen on {host}, not a loopback address: pass --host {host}"
        )
    return NO_AUTH


def _wildcard(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_unspecified
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """The listening socket, bound here so a refusal is one line (a port in use, an
    address this machine does not have), not the server's log."""
    try:
        family = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)[0][0]
        return socket.create_server((host.strip("[]"), port), family=family)
    except OSError as exc:
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


def names(host: str, port: int) -> list[str]:
    """The Host headers the app accepts: the bound name with its port (and localhost's
    aliases when it is loopback)."""
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    found = [f"{shown}:{port}"]
    if is_loopback(host):
        found += [f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"]
    return found


def serve(
    root: Path,
    host: str,
    port: int,
    *,
    explicit: bool,
    warn: Callable[[str], None],
    started: Callable[[str], None],
) -> None:
    """Listen on host:port until interrupted (uvicorn), the app over the pipeline at `root`."""
    notice = check_bind(host, explicit)
    if notice is not None:
        warn(notice.format(host=host, port=port))
    import uvicorn

    from pipectl.serve.app import create_app

    sock = listen(host, port)
    app = create_app(root, names(host, port))
    config = uvicorn.Config(app, log_level="warning", lifespan="off")
    started(f"http://{names(host, port)[0]}/")
    uvicorn.Server(config).run(sockets=[sock])
