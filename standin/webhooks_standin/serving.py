"""Run the app on werkzeug's threaded server until SIGTERM or SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from types import FrameType

from werkzeug.serving import WSGIRequestHandler, make_server

from .app import AppConfig, create_app
from .store import Store

logger = logging.getLogger("webhooks_standin")


class QuietRequestHandler(WSGIRequestHandler):
    """The app logs each request itself; werkzeug's access line would show the query string."""

    # Requests too broken to reach the app (bad request line, ...) get JSON
    # too, and never an echo of what was sent.
    error_content_type = "application/json"
    error_message_format = '{"message": "HTTP error %(code)d"}'

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def log_error(self, format: str, *args: object) -> None:
        # http.server's messages quote the raw request line, query string included.
        code = args[0] if args and isinstance(args[0], int) else "-"
        logger.warning("refused a malformed request (status %s)", code)


def serve(host: str, port: int, db_path: str | Path, config: AppConfig) -> None:
    store = Store(db_path)
    app = create_app(store, config)
    server = make_server(host, port, app, threaded=True, request_handler=QuietRequestHandler)

    def stop(signum: int, frame: FrameType | None) -> None:
        # shutdown() waits for serve_forever() to return, which runs in this
        # very thread: call it from another one.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    shown_host = f"[{host}]" if ":" in host else host
    print(f"listening on http://{shown_host}:{server.port}", flush=True)
    try:
        # A short poll interval makes shutdown quick.
        server.serve_forever(poll_interval=0.1)
    finally:
        server.server_close()
        store.close()
        logger.info("stopped")
