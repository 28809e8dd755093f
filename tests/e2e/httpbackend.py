#!/usr/bin/python3
"""A small HTTP/1.1 backend for ferry's end-to-end tests (standard library
only; run it with /usr/bin/python3).

  httpbackend.py [--port N] [--host H] [--name NAME] [--fail-rate R]
                 [--db FILE] [--log FILE]

Defaults: --port $PORT, --host 127.0.0.1, --name $FERRY_VERSION or
"backend", --fail-rate $FAIL_RATE or 0.

Routes:
  GET /            200 "NAME\\n" (every k-th answered 500 with --fail-rate:
                   deterministic, k = round(1 / R))
  GET /health      200 "ok\\n"
  GET /slow?ms=N   sleeps N ms, then 200 "NAME\\n"
  GET /status/N    status N, body "N\\n"
  POST /echo       200 with the request body
  GET /rows        200 with the row count of table items in --db
  GET /whoami      200 JSON: name, pid, the request's headers, and how many
                   requests this TCP connection carried (keep-alive check)
  GET /stats       200 JSON: requests served, connections accepted
Every answer carries X-Backend: NAME.  One line per request goes to --log
(if given): "NAME METHOD PATH STATUS conn=N".
SIGTERM/SIGINT: stop accepting, finish the requests in flight, exit 0.
"""
import argparse
import http.server
import json
import os
import signal
import socketserver
import sqlite3
import sys
import threading
import time
import urllib.parse


def parse_args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", "0") or 0))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--name", default=os.environ.get("FERRY_VERSION") or "backend")
    ap.add_argument("--fail-rate", type=float,
                    default=float(os.environ.get("FAIL_RATE", "0") or 0))
    ap.add_argument("--db", default=None)
    ap.add_argument("--log", default=None)
    a = ap.parse_args()
    if not 0 <= a.fail_rate <= 1:
        ap.error("--fail-rate must be within 0..1")
    if not 0 <= a.port <= 65535:
        ap.error("--port must be within 0..65535 (0: any free port)")
    return a


ARGS = None
LOCK = threading.Lock()
COUNTS = {"requests": 0, "root": 0, "connections": 0}
INFLIGHT = threading.Condition(LOCK)
ACTIVE = [0]
LOGF = None


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # head and body are two writes: without this, Nagle holds the body
    # until the peer's delayed ACK (40 ms a request)
    disable_nagle_algorithm = True
    server_version = "httpbackend"
    sys_version = ""

    def setup(self):
        super().setup()
        self.conn_requests = 0
        with LOCK:
            COUNTS["connections"] += 1

    def log_message(self, fmt, *args):  # quiet: --log instead
        pass

    def send_text(self, status, body, ctype="text/plain"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Backend", ARGS.name)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.log_line(status)

    def log_line(self, status):
        if LOGF:
            with LOCK:
                LOGF.write("%s %s %s %d conn=%d\n" % (
                    ARGS.name, self.command, self.path, status,
                    self.conn_requests))
                LOGF.flush()

    def begin(self):
        self.conn_requests += 1
        with LOCK:
            COUNTS["requests"] += 1
            ACTIVE[0] += 1

    def end(self):
        with LOCK:
            ACTIVE[0] -= 1
            INFLIGHT.notify_all()

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            out = b""
            while True:
                line = self.rfile.readline(1024).strip()
                size = int(line.split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline(1024) not in (b"\r\n", b"\n", b""):
                        pass
                    return out
                out += self.rfile.read(size)
                self.rfile.readline(8)
        return self.rfile.read(n) if n else b""

    def do_GET(self):
        self.begin()
        try:
            self.route_get()
        finally:
            self.end()

    do_HEAD = do_GET

    def route_get(self):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/":
            with LOCK:
                COUNTS["root"] += 1
                n = COUNTS["root"]
            if ARGS.fail_rate > 0:
                k = max(1, round(1 / ARGS.fail_rate))
                if n % k == 0:
                    return self.send_text(500, "error from %s\n" % ARGS.name)
            return self.send_text(200, ARGS.name + "\n")
        if u.path == "/health":
            return self.send_text(200, "ok\n")
        if u.path == "/slow":
            ms = int((q.get("ms") or ["1000"])[0])
            time.sleep(min(ms, 600000) / 1000.0)
            return self.send_text(200, ARGS.name + "\n")
        if u.path.startswith("/status/"):
            try:
                code = int(u.path[len("/status/"):])
            except ValueError:
                code = 400
            if not 200 <= code <= 599:
                code = 400
            return self.send_text(code, "%d\n" % code)
        if u.path == "/rows":
            if not ARGS.db:
                return self.send_text(404, "no --db\n")
            try:
                db = sqlite3.connect(ARGS.db, timeout=5)
                n = db.execute("SELECT count(*) FROM items").fetchone()[0]
                db.close()
            except sqlite3.Error as e:
                return self.send_text(500, "db error: %s\n" % e)
            return self.send_text(200, "%d\n" % n)
        if u.path == "/whoami":
            body = json.dumps({"name": ARGS.name, "pid": os.getpid(),
                               "conn_requests": self.conn_requests,
                               "headers": dict(self.headers.items())})
            return self.send_text(200, body + "\n", "application/json")
        if u.path == "/stats":
            with LOCK:
                body = json.dumps(COUNTS)
            return self.send_text(200, body + "\n", "application/json")
        return self.send_text(404, "not found\n")

    def do_POST(self):
        self.begin()
        try:
            body = self.read_body()
            if urllib.parse.urlsplit(self.path).path == "/echo":
                return self.send_text(200, body, "application/octet-stream")
            return self.send_text(404, "not found\n")
        finally:
            self.end()

    do_PUT = do_POST


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    global ARGS, LOGF
    ARGS = parse_args()
    if ARGS.log:
        LOGF = open(ARGS.log, "a")
    srv = Server((ARGS.host, ARGS.port), Handler)
    stop = threading.Event()

    def on_signal(signo, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1})
    t.daemon = True
    t.start()
    print("httpbackend %s listening on %s:%d" % (ARGS.name, ARGS.host,
                                                 srv.server_address[1]),
          flush=True)
    while not stop.wait(0.2):
        pass
    srv.shutdown()          # stop accepting
    deadline = time.time() + 30
    with LOCK:              # finish the requests in flight
        while ACTIVE[0] > 0 and time.time() < deadline:
            INFLIGHT.wait(0.1)
    srv.server_close()
    sys.exit(0)


if __name__ == "__main__":
    main()
