"""HTTP API over the gold data, on the stdlib ThreadingHTTPServer.

  GET /health                 {"status": "ok", "version": ...}
  GET /breweries/stats        totals per country, state and type
  GET /breweries?country=&state=&type=&limit=&offset=

Configuration from the environment: PORT (default 8000), HOST (default
127.0.0.1), GOLD_DIR (see app.store), APP_ERROR_RATE (0..1: that share of
/breweries requests answer 500, to rehearse a bad release).  No auth, no
TLS: it is meant to sit behind a proxy on the loopback interface.
"""
import json
import os
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app import read_version
from app.store import Store, StoreError

MAX_LIMIT = 500


class FaultInjector:
    """Fail a deterministic share of calls: with rate 0.25, every 4th."""

    def __init__(self, rate=0.0):
        self.rate = min(max(rate, 0.0), 1.0)
        self.calls = 0
        self.lock = threading.Lock()

    def should_fail(self):
        if self.rate <= 0:
            return False
        with self.lock:
            before = int(self.calls * self.rate)
            self.calls += 1
            return int(self.calls * self.rate) > before


def _int_param(query, name, default, low, high):
    values = query.get(name)
    if not values:
        return default
    try:
        value = int(values[0])
    except ValueError:
        raise ValueError("'%s' must be an integer" % name) from None
    if value < low or value > high:
        raise ValueError("'%s' must be between %d and %d"
                         % (name, low, high))
    return value


def route(method, target, store, version, faults=None):
    """Answer one request: return (status, payload) for a JSON body."""
    url = urllib.parse.urlsplit(target)
    path = url.path.rstrip("/") or "/"
    if method != "GET":
        return 405, {"error": "method not allowed"}
    if path == "/health":
        return 200, {"status": "ok", "version": version}
    if path == "/":
        return 200, {"service": "breweries", "version": version,
                     "endpoints": ["/health", "/breweries/stats",
                                   "/breweries"]}
    if path not in ("/breweries", "/breweries/stats"):
        return 404, {"error": "not found", "path": path}
    if faults is not None and faults.should_fail():
        return 500, {"error": "injected failure"}
    if path == "/breweries/stats":
        return 200, store.stats()
    query = urllib.parse.parse_qs(url.query)
    try:
        limit = _int_param(query, "limit", 50, 1, MAX_LIMIT)
        offset = _int_param(query, "offset", 0, 0, 10 ** 9)
    except ValueError as exc:
        return 400, {"error": str(exc)}

    def one(name):
        return (query.get(name) or [None])[0]
    total, items = store.find(one("country"), one("state"), one("type"),
                              limit, offset)
    return 200, {"total": total, "count": len(items), "offset": offset,
                 "items": items}


class Handler(BaseHTTPRequestHandler):
    server_version = "breweries"
    protocol_version = "HTTP/1.1"

    def _answer(self):
        if self.command != "GET":
            self.close_connection = True  # any request body stays unread
        status, payload = route(self.command, self.path, self.server.store,
                                self.server.version, self.server.faults)
        body = (json.dumps(payload, ensure_ascii=False) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if status == 405:
            self.send_header("Allow", "GET")
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    def log_message(self, fmt, *args):
        sys.stderr.write("%s %s\n" % (self.address_string(), fmt % args))


def make_server(host, port, store, version, error_rate=0.0):
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.store = store
    server.version = version
    server.faults = FaultInjector(error_rate)
    return server


def config_from_env(env):
    """(host, port, error_rate) from the environment; ValueError if bad."""
    host = env.get("HOST") or "127.0.0.1"
    try:
        port = int(env.get("PORT") or "8000")
    except ValueError:
        raise ValueError("PORT must be a number, not '%s'"
                         % env["PORT"]) from None
    if not 0 <= port <= 65535:
        raise ValueError("PORT must be between 0 and 65535")
    try:
        rate = float(env.get("APP_ERROR_RATE") or "0")
    except ValueError:
        raise ValueError("APP_ERROR_RATE must be a number between 0 and "
                         "1") from None
    return host, port, rate


def _stop(signum, frame):
    raise SystemExit(0)


def main(env=None, serve=True):
    env = os.environ if env is None else env
    try:
        host, port, rate = config_from_env(env)
        store = Store.load(env)
        server = make_server(host, port, store, read_version(), rate)
    except (ValueError, StoreError, OSError) as exc:
        print("breweries: error: %s" % exc, file=sys.stderr)
        return 2
    print("breweries %s listening on http://%s:%d (%d breweries from %s)"
          % (server.version, host, server.server_address[1],
             len(store.breweries), store.source), flush=True)
    if not serve:
        server.server_close()
        return 0
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print("breweries: stopped", flush=True)
    return 0
