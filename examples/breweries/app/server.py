"""HTTP API over the gold data, on the stdlib ThreadingHTTPServer.

  GET /health                 {"status": "ok", "version": ..., "db": "ok"}
  GET /breweries/stats        totals per country, state and type
  GET /breweries?country=&state=&type=&limit=&offset=
  GET /favorites              {"count": N, "items": [...]} (needs APP_DB)

Configuration from the environment: PORT (default 8000), HOST (default
127.0.0.1), GOLD_DIR (see app.store), APP_DB (a SQLite file, see app.db;
/health has "db" only with one), FERRY_INSTANCE (set by ferry/deploy;
/health shows it as "instance"), APP_ERROR_RATE (0..1: that share of the
requests to /, /breweries* and /favorites answer 500, to rehearse a bad
release; when it is unset, the file app/FAULT_RATE is read instead, so
that a release can carry its own fault).  /health is never affected: a
bad release passes its health check and must be caught by the analysis of
its error rate.  No auth, no TLS: it is meant to sit behind a proxy on the
loopback interface.
"""
import json
import os
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from app import ROOT, read_version
from app.db import MIGRATIONS_DIR, DatabaseError, open_database
from app.store import Store, StoreError

MAX_LIMIT = 500
FAULT_FILE = os.path.join(ROOT, "app", "FAULT_RATE")


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


def route(method, target, store, version, faults=None, db=None,
          instance=None):
    """Answer one request: return (status, payload) for a JSON body."""
    url = urllib.parse.urlsplit(target)
    path = url.path.rstrip("/") or "/"
    if method != "GET":
        return 405, {"error": "method not allowed"}
    if path == "/health":
        return health(version, db, instance)
    if path not in ("/", "/breweries", "/breweries/stats", "/favorites"):
        return 404, {"error": "not found", "path": path}
    if faults is not None and faults.should_fail():
        return 500, {"error": "injected failure"}
    if path == "/":
        return 200, {"service": "breweries", "version": version,
                     "endpoints": ["/health", "/breweries/stats",
                                   "/breweries", "/favorites"]}
    if path == "/favorites":
        return favorites(db)
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


def health(version, db, instance=None):
    """/health: 200 when up (and the database, if any, can be read)."""
    body = {"status": "ok", "version": version}
    if instance:
        body["instance"] = instance
    if db is None:
        return 200, body
    try:
        db.check()
    except DatabaseError as exc:
        body.update(status="error", db=str(exc))
        return 503, body
    body["db"] = "ok"
    return 200, body


def favorites(db):
    """/favorites: the favorites table, or why there is none."""
    if db is None:
        return 404, {"error": "no database configured"}
    try:
        items = db.favorites()
    except DatabaseError as exc:
        return 503, {"error": str(exc)}
    return 200, {"count": len(items), "items": items}


class Handler(BaseHTTPRequestHandler):
    server_version = "breweries"
    protocol_version = "HTTP/1.1"

    def _answer(self):
        if self.command != "GET":
            self.close_connection = True  # any request body stays unread
        status, payload = route(self.command, self.path, self.server.store,
                                self.server.version, self.server.faults,
                                self.server.db, self.server.instance)
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


def make_server(host, port, store, version, error_rate=0.0, db=None,
                instance=None):
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.store = store
    server.version = version
    server.faults = FaultInjector(error_rate)
    server.db = db
    server.instance = instance
    return server


def _rate(text, source):
    try:
        rate = float(text)
    except ValueError:
        rate = -1.0
    if not 0.0 <= rate <= 1.0:  # also false for nan
        raise ValueError("%s must be a number between 0 and 1, not '%s'"
                         % (source, text.strip()))
    return rate


def error_rate(env, fault_file=FAULT_FILE):
    """APP_ERROR_RATE, else the number in @fault_file, else 0."""
    if env.get("APP_ERROR_RATE"):
        return _rate(env["APP_ERROR_RATE"], "APP_ERROR_RATE")
    try:
        with open(fault_file, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError:
        return 0.0
    return _rate(text or "0", fault_file)


def config_from_env(env, fault_file=FAULT_FILE):
    """(host, port, error_rate) from the environment; ValueError if bad."""
    host = env.get("HOST") or "127.0.0.1"
    try:
        port = int(env.get("PORT") or "8000")
    except ValueError:
        raise ValueError("PORT must be a number, not '%s'"
                         % env["PORT"]) from None
    if not 0 <= port <= 65535:
        raise ValueError("PORT must be between 0 and 65535")
    return host, port, error_rate(env, fault_file)


def _stop(signum, frame):
    raise SystemExit(0)


def main(env=None, serve=True, fault_file=FAULT_FILE,
         migrations=MIGRATIONS_DIR):
    env = os.environ if env is None else env
    try:
        host, port, rate = config_from_env(env, fault_file)
        store = Store.load(env)
        db, applied, schema = None, [], []
        if env.get("APP_DB"):
            db, applied = open_database(env["APP_DB"], migrations)
            schema = db.versions()
        server = make_server(host, port, store, read_version(), rate, db,
                             env.get("FERRY_INSTANCE"))
    except (ValueError, StoreError, DatabaseError, OSError) as exc:
        print("breweries: error: %s" % exc, file=sys.stderr)
        return 2
    print("breweries %s listening on http://%s:%d (%d breweries from %s)"
          % (server.version, host, server.server_address[1],
             len(store.breweries), store.source), flush=True)
    if db is not None:
        print("breweries: database %s at version %s (%d migration(s) "
              "applied now)" % (db.path, (schema or ["none"])[-1],
                                len(applied)), flush=True)
    if rate > 0:
        print("breweries: injecting failures in %g%% of the requests"
              % (rate * 100), flush=True)
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
