"""`ikz serve`: uvicorn with N worker processes, TCP_NODELAY kept, graceful shutdown on SIGTERM.

With `--workers N` uvicorn hands the listening socket to spawned processes, which rebuild it with
`socket.fromfd`; the rebuilt socket reports protocol 0, so asyncio no longer recognises its
connections as TCP and skips TCP_NODELAY (measured: 0 on every accepted connection, 1 with one
process). Nagle plus delayed ACK then holds back the body of a keep-alive response. The protocol
classes below set the option on every connection themselves.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile

from uvicorn.protocols.http.h11_impl import H11Protocol

try:  # uvicorn prefers httptools when it is installed
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # pragma: no cover - depends on the environment
    HttpToolsProtocol = None


def _nodelay(transport) -> None:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:  # the peer may already be gone
            pass


class NoDelayH11Protocol(H11Protocol):
    def connection_made(self, transport) -> None:
        _nodelay(transport)
        super().connection_made(transport)


if HttpToolsProtocol is not None:
    class NoDelayHttpToolsProtocol(HttpToolsProtocol):
        def connection_made(self, transport) -> None:
            _nodelay(transport)
            super().connection_made(transport)
else:  # pragma: no cover
    NoDelayHttpToolsProtocol = None


def http_protocol(choice: str = "auto") -> type:
    """The protocol class for `--http`: httptools when installed (auto), or the one asked for."""
    if choice == "h11":
        return NoDelayH11Protocol
    if choice == "httptools" and NoDelayHttpToolsProtocol is None:
        raise SystemExit("--http httptools: the httptools package is not installed.")
    return NoDelayHttpToolsProtocol or NoDelayH11Protocol


def serve(host: str, port: int, workers: int, graceful_timeout: float, loop: str = "auto", http: str = "auto") -> int:
    import uvicorn

    from ikz.observability import logging_config
    from service.config import get_settings

    settings = get_settings()
    own_metrics_dir = None
    if workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every worker writes its counters here; /metrics on any of them adds them up. Fresh per start:
        # stale files of an earlier run would be counted again.
        own_metrics_dir = tempfile.mkdtemp(prefix="ikz-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = own_metrics_dir
    print(f"Serving http://{host}:{port}/graphql ({settings.app_env}, {workers} worker process(es))", flush=True)
    try:
        uvicorn.run(
            "ikz.app:create_app",
            factory=True,
            host=host,
            port=port,
            workers=workers if workers > 1 else None,
            http=http_protocol(http),
            loop=loop,  # auto: uvloop when installed
            log_config=logging_config(settings.log_format),
            access_log=False,  # ikz.access writes one line per request, with the request id, tokens redacted
            proxy_headers=False,  # the app applies FORWARDED_ALLOW_IPS itself (ikz/app.py)
            server_header=False,
            timeout_graceful_shutdown=graceful_timeout,
        )
    finally:
        if own_metrics_dir:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
    return 0
