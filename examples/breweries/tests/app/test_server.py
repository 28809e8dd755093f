import http.client
import json
import threading

import pytest

from app import server
from app.store import Store


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    from tests.conftest import brewery, write_csv
    path = write_csv(tmp_path_factory.mktemp("csv") / "s.csv", [
        brewery(id="u-1"), brewery(id="u-2", brewery_type="brewpub"),
        brewery(id="i-1", city="Cork", state="Cork", country="Ireland"),
    ])
    return Store.from_csv(path)


def get(target, store, method="GET", faults=None):
    return server.route(method, target, store, "9.9.9", faults)


def test_health(store):
    assert get("/health", store) == (200, {"status": "ok",
                                           "version": "9.9.9"})
    assert get("/health/", store)[0] == 200


def test_index(store):
    status, body = get("/", store)
    assert status == 200 and "/breweries/stats" in body["endpoints"]
    assert "/favorites" in body["endpoints"]


def test_stats(store):
    status, body = get("/breweries/stats", store)
    assert status == 200
    assert body["total"] == 3
    assert body["by_country"][0] == {"country": "United States",
                                     "breweries": 2}


def test_list_and_filters(store):
    status, body = get("/breweries", store)
    assert status == 200
    assert (body["total"], body["count"], body["offset"]) == (3, 3, 0)
    _, body = get("/breweries?country=ireland", store)
    assert [b["id"] for b in body["items"]] == ["i-1"]
    _, body = get("/breweries?country=United%20States&type=brewpub", store)
    assert [b["id"] for b in body["items"]] == ["u-2"]
    _, body = get("/breweries?limit=1&offset=1", store)
    assert body["total"] == 3 and body["count"] == 1
    assert body["offset"] == 1


@pytest.mark.parametrize("query, message", [
    ("limit=x", "'limit' must be an integer"),
    ("limit=0", "'limit' must be between 1 and 500"),
    ("limit=501", "'limit' must be between 1 and 500"),
    ("offset=-1", "'offset' must be between 0 and 1000000000"),
])
def test_bad_paging(store, query, message):
    assert get("/breweries?" + query, store) == (400, {"error": message})


def test_not_found_and_method(store):
    assert get("/nope", store) == (404, {"error": "not found",
                                         "path": "/nope"})
    assert get("/health", store, method="POST")[0] == 405


def test_fault_injector_rate():
    faults = server.FaultInjector(0.25)
    assert [faults.should_fail() for _ in range(8)] == [
        False, False, False, True] * 2
    assert not any(server.FaultInjector(0).should_fail() for _ in range(5))
    assert all(server.FaultInjector(7).should_fail() for _ in range(5))


def test_faults_spare_health(store):
    faults = server.FaultInjector(1.0)
    assert get("/health", store, faults=faults)[0] == 200
    for path in ("/", "/breweries", "/breweries/stats", "/favorites"):
        assert get(path, store, faults=faults) == (
            500, {"error": "injected failure"})
    assert get("/nope", store, faults=faults)[0] == 404
    assert faults.calls == 4


@pytest.fixture
def no_fault_file(tmp_path):
    """A FAULT_RATE path that does not exist (the tree's own may)."""
    return str(tmp_path / "FAULT_RATE")


@pytest.mark.parametrize("env, want", [
    ({}, ("127.0.0.1", 8000, 0.0)),
    ({"PORT": "9001", "HOST": "::1", "APP_ERROR_RATE": "0.5"},
     ("::1", 9001, 0.5)),
])
def test_config_from_env(env, want, no_fault_file):
    assert server.config_from_env(env, no_fault_file) == want


@pytest.mark.parametrize("env, message", [
    ({"PORT": "http"}, "PORT must be a number"),
    ({"PORT": "70000"}, "PORT must be between"),
    ({"APP_ERROR_RATE": "lots"}, "APP_ERROR_RATE must be a number"),
    ({"APP_ERROR_RATE": "1.5"}, "APP_ERROR_RATE must be a number between "
                                "0 and 1, not '1.5'"),
    ({"APP_ERROR_RATE": "nan"}, "APP_ERROR_RATE must be a number"),
])
def test_config_errors(env, message, no_fault_file):
    with pytest.raises(ValueError, match=message):
        server.config_from_env(env, no_fault_file)


def test_fault_rate_file_when_the_variable_is_unset(no_fault_file):
    with open(no_fault_file, "w") as fh:
        fh.write("0.1\n")
    assert server.error_rate({}, no_fault_file) == 0.1
    assert server.error_rate({"APP_ERROR_RATE": ""}, no_fault_file) == 0.1
    # the variable wins over the file, 0 included
    assert server.error_rate({"APP_ERROR_RATE": "0"}, no_fault_file) == 0.0
    assert server.error_rate({"APP_ERROR_RATE": "0.3"}, no_fault_file) == 0.3
    with open(no_fault_file, "w") as fh:
        fh.write("")
    assert server.error_rate({}, no_fault_file) == 0.0


@pytest.mark.parametrize("text", ["ten percent", "-0.1", "2"])
def test_fault_rate_file_errors(no_fault_file, text):
    with open(no_fault_file, "w") as fh:
        fh.write(text + "\n")
    with pytest.raises(ValueError, match="FAULT_RATE must be a number "
                                         "between 0 and 1"):
        server.error_rate({}, no_fault_file)


def test_main_reports_the_fault_rate(no_fault_file, capsys):
    with open(no_fault_file, "w") as fh:
        fh.write("0.1")
    assert server.main({"PORT": "0"}, serve=False,
                       fault_file=no_fault_file) == 0
    assert "injecting failures in 10% of the requests" \
        in capsys.readouterr().out
    with open(no_fault_file, "w") as fh:
        fh.write("lots")
    assert server.main({"PORT": "0"}, serve=False,
                       fault_file=no_fault_file) == 2
    assert "FAULT_RATE must be a number" in capsys.readouterr().err


def test_the_shipped_fault_rate_is_valid():
    # a release may carry app/FAULT_RATE; whatever it holds must parse
    assert 0.0 <= server.error_rate({}) <= 1.0


@pytest.fixture
def live(store):
    srv = server.make_server("127.0.0.1", 0, store, "1.2.3")
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def request(port, method, path):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, path, body=b"{}" if method == "POST" else None)
        resp = conn.getresponse()
        return resp, json.loads(resp.read())
    finally:
        conn.close()


def test_health_names_the_instance(store):
    assert server.route("GET", "/health", store, "2", instance="prod-2-1") \
        == (200, {"status": "ok", "version": "2", "instance": "prod-2-1"})


def test_http_round_trip(live, capsys):
    resp, body = request(live, "GET", "/health")
    assert resp.status == 200
    assert resp.getheader("Content-Type") == \
        "application/json; charset=utf-8"
    assert body == {"status": "ok", "version": "1.2.3"}
    resp, body = request(live, "GET", "/breweries?country=Ireland")
    assert body["total"] == 1
    resp, body = request(live, "POST", "/breweries")
    assert resp.status == 405 and resp.getheader("Allow") == "GET"
    assert '"GET /health HTTP/1.1" 200' in capsys.readouterr().err


def test_main_starts_and_reports(capsys, no_fault_file):
    assert server.main({"PORT": "0"}, serve=False,
                       fault_file=no_fault_file) == 0
    out = capsys.readouterr().out
    assert out.startswith("breweries ")
    assert "listening on http://127.0.0.1:" in out


def test_main_bad_config(capsys, no_fault_file):
    assert server.main({"PORT": "abc"}, fault_file=no_fault_file) == 2
    assert "breweries: error: PORT" in capsys.readouterr().err
    assert server.main({"GOLD_DIR": "/nonexistent"},
                       fault_file=no_fault_file) == 2


def test_main_serves_until_interrupted(monkeypatch, capsys, no_fault_file):
    def interrupted(self, poll_interval=0.5):
        raise KeyboardInterrupt
    monkeypatch.setattr(server.ThreadingHTTPServer, "serve_forever",
                        interrupted)
    monkeypatch.setattr(server.signal, "signal", lambda *a: None)
    assert server.main({"PORT": "0"}, fault_file=no_fault_file) == 0
    assert "breweries: stopped" in capsys.readouterr().out


def test_stop_handler_exits():
    with pytest.raises(SystemExit):
        server._stop(15, None)
