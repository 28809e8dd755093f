"""End-to-end tests of the HTTP API.

With API_URL set (CI starts the built artifact and sets it), they query
that server.  Without it, they start `python3 -m app` from this checkout on
a free port in a subprocess, with a fresh database and no injected
failures, and stop it afterwards.
"""
import json
import os
import socket
import subprocess  # nosec B404 - starts our own server for the test
import sys
import time
import urllib.error
import urllib.request

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(base, path):
    try:
        with urllib.request.urlopen(base + path, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def wait_healthy(base, proc=None, seconds=15):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("server exited with %s" % proc.returncode)
        try:
            if fetch(base, "/health")[0] == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.1)
    raise RuntimeError("server at %s not healthy in %ds" % (base, seconds))


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    if os.environ.get("API_URL"):
        base = os.environ["API_URL"].rstrip("/")
        wait_healthy(base)
        yield base
        return
    port = free_port()
    env = dict(os.environ, PORT=str(port), APP_ERROR_RATE="0",
               APP_DB=str(tmp_path_factory.mktemp("db") / "app.db"))
    env.pop("GOLD_DIR", None)
    proc = subprocess.Popen(  # nosec B603 - fixed argv, no shell
        [sys.executable, "-m", "app"], cwd=ROOT, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = "http://127.0.0.1:%d" % port
    try:
        wait_healthy(base, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_health_reports_version(api):
    status, body = fetch(api, "/health")
    assert status == 200
    assert body["status"] == "ok"
    expected = os.environ.get("EXPECTED_VERSION")
    if expected:
        assert body["version"] == expected
    else:
        assert body["version"].count(".") >= 2


def test_stats_agree_with_listing(api):
    _, stats = fetch(api, "/breweries/stats")
    assert stats["total"] >= 150
    assert sum(c["breweries"] for c in stats["by_country"]) == stats["total"]
    _, listing = fetch(api, "/breweries?limit=1")
    assert listing["total"] == stats["total"]


def test_filter_by_country_matches_stats(api):
    _, stats = fetch(api, "/breweries/stats")
    for entry in stats["by_country"][:3]:
        _, body = fetch(api, "/breweries?limit=500&country="
                        + urllib.request.quote(entry["country"]))
        assert body["total"] == entry["breweries"]
        assert {b["country"] for b in body["items"]} == {entry["country"]}


def test_errors(api):
    assert fetch(api, "/breweries?limit=oops")[0] == 400
    assert fetch(api, "/no/such/thing")[0] == 404


def test_favorites(api):
    # with a database /health says so and /favorites lists the table
    # (its size is the migrations' business); without one it is a 404
    _, health = fetch(api, "/health")
    status, body = fetch(api, "/favorites")
    if "db" in health:
        assert health["db"] == "ok"
        assert status == 200 and body["count"] == len(body["items"])
        for item in body["items"]:
            assert set(item) >= {"id", "brewery_id", "note"}
    else:
        assert (status, body) == (404, {"error": "no database configured"})
