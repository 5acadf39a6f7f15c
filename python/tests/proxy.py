"""A small HTTP proxy in front of the fake exchange, for tests that need an answer held
back or failed on purpose (the fake's own faults are set from Rust, not from here).

``Proxy(upstream, hold=pred, fail=n)``: requests whose path+query satisfy ``hold`` wait
until ``release()`` (``held`` is set when the first arrives); the first ``fail`` requests
get a 500. Everything else is forwarded as is (status, headers, body bytes).
"""

import http.client
import http.server
import threading
import urllib.parse


class Proxy:
    def __init__(self, upstream, hold=None, fail=0):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.hold = hold
        self.fail = fail
        self.held = threading.Event()
        self.released = threading.Event()
        self.paths = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                proxy._serve(self)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def _serve(self, handler):
        with self._lock:
            self.paths.append(handler.path)
            failing = self.fail > 0
            if failing:
                self.fail -= 1
        if failing:
            handler.send_response(500)
            handler.send_header("Content-Length", "0")
            handler.end_headers()
            return
        if self.hold is not None and self.hold(handler.path):
            self.held.set()
            self.released.wait()
            handler.close_connection = True
            return
        conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
        conn.request("GET", handler.path, headers=headers)
        resp = conn.getresponse()
        body = resp.read()
        handler.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                handler.send_header(k, v)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)
        conn.close()

    def release(self):
        self.released.set()

    def close(self):
        self.release()
        self.server.shutdown()
        self.server.server_close()


def start_ms_of(path):
    """The startTime query parameter of a Binance REST path, or None."""
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    return int(query["startTime"][0]) if "startTime" in query else None
