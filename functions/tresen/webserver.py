"""The local HTTP server: the functions-framework app for `api`, served by werkzeug threads, with the
web pages (web/: the ordering page at `/`, the staff board at `/staff`, the merchant portal at
`/portal`, the drivers' page at `/driver`) as static files beside it, as Firebase Hosting serves them
in production (firebase.json `hosting`)."""

from __future__ import annotations

import socket
import threading
import time
import urllib.request
from pathlib import Path

from werkzeug.middleware.shared_data import SharedDataMiddleware
from werkzeug.serving import BaseWSGIServer, make_server

MAIN = Path(__file__).resolve().parents[1] / "main.py"
WEB = Path(__file__).resolve().parents[2] / "web"
# Firebase Hosting's `cleanUrls`: a page is asked for without its .html
PAGES = {"/": "/index.html", "/staff": "/staff.html", "/portal": "/portal.html", "/driver": "/driver.html"}
READY_PATHS = ("/v1/health", "/v1/stores/demo/menu", "/v1/openapi.json", "/")


def with_pages(app):
    """Serves web/ for every path outside /v1; the API keeps every /v1 path (and its 404s)."""
    files = SharedDataMiddleware(app, {"/": str(WEB)}, cache_timeout=0)

    def pages(environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/v1/"):
            return app(environ, start_response)
        environ["PATH_INFO"] = PAGES.get(path, path)
        return files(environ, start_response)

    return pages


def serve(port: int, listener: socket.socket | None = None) -> BaseWSGIServer:
    """The dev server on `port`, on the `listener` already bound to it if given (devstack.claim_port)."""
    import functions_framework

    app = functions_framework.create_app(target="dev", source=str(MAIN), signature_type="http")
    fd = listener.fileno() if listener is not None else None
    server = make_server("127.0.0.1", port, with_pages(app), threaded=True, fd=fd)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="http", daemon=True).start()
    return server


def wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    for path in READY_PATHS:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"{path} did not answer 200 within {timeout:.0f} s")
            time.sleep(0.1)
