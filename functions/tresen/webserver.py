"""The local HTTP server: the functions-framework app for `api`, served by werkzeug threads."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

from werkzeug.serving import BaseWSGIServer, make_server

MAIN = Path(__file__).resolve().parents[1] / "main.py"
READY_PATHS = ("/v1/health", "/v1/stores/demo/menu", "/v1/openapi.json")


def serve(port: int) -> BaseWSGIServer:
    import functions_framework

    app = functions_framework.create_app(target="dev", source=str(MAIN), signature_type="http")
    server = make_server("127.0.0.1", port, app, threaded=True)
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
