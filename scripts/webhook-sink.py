#!/usr/bin/python3
"""A webhook receiver for the demo: listens on 127.0.0.1 (port 0 = any
free port, written to PORTFILE), appends every POST body it gets as one
line to OUT, answers 204.  Usage: webhook-sink.py PORTFILE OUT"""
import http.server
import json
import sys


class Sink(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 1 << 20))
        try:
            line = json.dumps(json.loads(body))
        except ValueError:
            line = json.dumps({"raw": body.decode("utf-8", "replace")})
        with open(sys.argv[2], "a") as f:
            f.write(line + "\n")
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Sink)
with open(sys.argv[1], "w") as f:
    f.write(str(srv.server_address[1]))
srv.serve_forever()
