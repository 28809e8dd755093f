/* traffic_test: the HAProxy driver against a real haproxy (server-template
 * slots, python3 http.server backends, real requests through it), the
 * ferry-proxy driver against a small python3 stand-in for its admin API,
 * and both answer parsers on canned answers. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "deploy/traffic.h"
#include "exec/proc.h"
#include "exec/workspace.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define PY "/usr/bin/python3"

struct env {
    char dir[64];
    pid_t pids[4];      /* haproxy, backends, fake admin: killed at end */
    size_t npids;
    unsigned fe_port;   /* haproxy's frontend */
    unsigned be_port[2];
    unsigned admin_port; /* fake ferry proxy */
    char sock[128];
    char addr[2][32];
};

static void pause_ms(int ms)
{
    (void)poll(NULL, 0, ms);
}

static unsigned free_port(void)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void put(const char *path, const char *text)
{
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_put_file(path, text, strlen(text), &err),
                     FERR_OK);
}

/* Start `sh -c CMD` (its output goes where CMD sends it). */
static void start(struct env *e, const char *cmd)
{
    char *argv[] = { "sh", "-c", (char *)cmd, NULL };
    struct proc_spec spec;
    struct ferr err;
    pid_t pid;
    int fd;

    memset(&spec, 0, sizeof(spec));
    spec.path = "/bin/sh";
    spec.argv = argv;
    spec.cwd = e->dir;
    spec.stdin_fd = -1;
    ferr_clear(&err);
    assert_int_equal(proc_spawn(&spec, &pid, &fd, &err), FERR_OK);
    close(fd);
    e->pids[e->npids++] = pid;
}

static int tcp_connect(unsigned port)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One HTTP/1.0 request; the whole answer in @out (empty on failure). */
static void http(unsigned port, const char *method, char *out, size_t n)
{
    char req[128];
    size_t got = 0;
    int fd = tcp_connect(port);

    out[0] = '\0';
    if (fd < 0)
        return;
    snprintf(req, sizeof(req), "%s / HTTP/1.0\r\nHost: x\r\n\r\n", method);
    assert_true(write(fd, req, strlen(req)) == (ssize_t)strlen(req));
    for (;;) {
        ssize_t r = read(fd, out + got, n - 1 - got);

        if (r <= 0)
            break;
        got += (size_t)r;
    }
    out[got] = '\0';
    close(fd);
}

static void wait_port(unsigned port)
{
    for (int i = 0; i < 200; i++) {
        int fd = tcp_connect(port);

        if (fd >= 0) {
            close(fd);
            return;
        }
        pause_ms(25);
    }
    fail_msg("nothing listens on port %u", port);
}

static int env_setup(void **state)
{
    struct env *e = xcalloc(1, sizeof(*e));
    char path[256];
    char cmd[512];
    char cfg[1024];

    snprintf(e->dir, sizeof(e->dir), "/tmp/traffic-test-XXXXXX");
    assert_non_null(mkdtemp(e->dir));
    snprintf(e->sock, sizeof(e->sock), "%s/admin.sock", e->dir);
    for (int i = 0; i < 2; i++) {
        struct ferr err;

        snprintf(path, sizeof(path), "%s/b%d", e->dir, i + 1);
        ferr_clear(&err);
        assert_int_equal(workspace_mkdirs(path, &err), FERR_OK);
        snprintf(path, sizeof(path), "%s/b%d/index.html", e->dir, i + 1);
        put(path, i == 0 ? "backend-ONE\n" : "backend-TWO\n");
        e->be_port[i] = free_port();
        snprintf(e->addr[i], sizeof(e->addr[i]), "127.0.0.1:%u",
                 e->be_port[i]);
        snprintf(cmd, sizeof(cmd),
                 "exec " PY " -m http.server %u --bind 127.0.0.1 "
                 "--directory b%d >b%d.log 2>&1",
                 e->be_port[i], i + 1, i + 1);
        start(e, cmd);
    }
    e->fe_port = free_port();
    snprintf(cfg, sizeof(cfg),
             "global\n"
             "    stats socket %s mode 600 level admin\n"
             "defaults\n"
             "    mode http\n"
             "    timeout connect 2s\n"
             "    timeout client 10s\n"
             "    timeout server 10s\n"
             "frontend fe\n"
             "    bind 127.0.0.1:%u\n"
             "    default_backend app\n"
             "backend app\n"
             "    balance roundrobin\n"
             "    server-template slot 4 127.0.0.1:1 disabled\n",
             e->sock, e->fe_port);
    snprintf(path, sizeof(path), "%s/haproxy.cfg", e->dir);
    put(path, cfg);
    start(e, "exec haproxy -db -f haproxy.cfg >haproxy.log 2>&1");
    wait_port(e->be_port[0]);
    wait_port(e->be_port[1]);
    wait_port(e->fe_port);
    *state = e;
    return 0;
}

static int env_teardown(void **state)
{
    struct env *e = *state;
    struct ferr err;

    for (size_t i = 0; i < e->npids; i++) {
        proc_signal_group(e->pids[i], SIGKILL);
        waitpid(e->pids[i], NULL, 0);
    }
    ferr_clear(&err);
    assert_int_equal(workspace_rmtree(e->dir, &err), FERR_OK);
    free(e);
    return 0;
}

static struct traffic *open_hap(struct env *e)
{
    char spec[256];
    struct traffic *t;
    struct ferr err;

    snprintf(spec, sizeof(spec), "haproxy:%s:app", e->sock);
    ferr_clear(&err);
    assert_int_equal(traffic_open(spec, &t, &err), FERR_OK);
    return t;
}

static void count(struct env *e, int n, int *one, int *two)
{
    char answer[4096];

    *one = *two = 0;
    for (int i = 0; i < n; i++) {
        http(e->fe_port, "GET", answer, sizeof(answer));
        if (strstr(answer, "backend-ONE"))
            (*one)++;
        else if (strstr(answer, "backend-TWO"))
            (*two)++;
    }
}

static const struct traffic_backend *find(const struct traffic_backend *b,
                                          size_t n, const char *addr)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(b[i].addr, addr) == 0)
            return &b[i];
    return NULL;
}

/* ---- specs ----------------------------------------------------------- */

static void test_traffic_open_specs(void **state)
{
    static const char *good[] = { "ferry:127.0.0.1:9000",
                                  "ferry:localhost:1",
                                  "ferry:[::1]:9000",
                                  "ferry:unix:/run/ferry/proxy.sock",
                                  "haproxy:/run/haproxy/admin.sock:app",
                                  "haproxy:rel.sock:be_1" };
    static const char *bad[] = { "", "ferry:", "ferry:host", "ferry:host:0",
                                 "ferry:host:65536", "ferry:ho st:80",
                                 "ferry:unix:", "haproxy:/x.sock",
                                 "haproxy::app", "haproxy:/x.sock:a;b",
                                 "haproxy:/x.sock:", "nginx:/x:y",
                                 "ferry:h/x:80" };
    struct traffic *t;
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(traffic_open(good[i], &t, &err), FERR_OK);
        traffic_free(t);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(traffic_open(bad[i], &t, &err), FERR_INVALID);
        assert_null(t);
        assert_non_null(strstr(err.msg, "input 'proxy': expected"));
    }
    traffic_free(NULL);
}

/* ---- parsers --------------------------------------------------------- */

static const char stat_answer[] =
    "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,"
    "ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,"
    "lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,"
    "rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,"
    "hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,"
    "req_rate_max,req_tot,addr,\n"
    "fe,FRONTEND,,,0,1,262124,7,0,0,0,0,0,,,,,OPEN,,,,,,,,,1,2,0,,,,0,0,0,"
    "1,,,,0,7,0,0,0,0,,0,1,7,,\n"
    "app,slot1,0,0,2,3,,17,0,0,,0,,0,0,0,0,no check,90,1,0,,,0,,,1,3,1,,"
    "17,,2,0,,1,,,,0,16,0,0,1,0,,,,17,127.0.0.1:8081,\n"
    "app,slot2,0,0,0,0,,3,0,0,,0,,0,0,0,0,DRAIN,10,1,0,,,0,,,1,3,2,,3,,2,"
    "0,,1,,,,0,3,0,0,0,0,,,,,127.0.0.1:8082,\n"
    "app,slot3,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1,1,0,,,1,,,1,3,3,,0,,2,0,"
    ",0,,,,0,0,0,0,0,0,,,,0,127.0.0.1:1,\n"
    "app,slot4,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN 1/2,1,1,0,,,1,,,1,3,4,,0,,"
    "2,0,,0,,,,0,0,0,0,0,0,,,,0,127.0.0.1:8084,\n"
    "app,BACKEND,0,0,2,3,,20,0,0,0,0,,0,0,0,0,UP,100,1,0,,0,0,0,,1,3,0,,"
    "20,,1,0,,1,,,,0,19,0,0,1,0,,,,20,,\n"
    "other,slot1,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP,1,1,0,,,1,,,1,4,1,,0,,2,0,"
    ",0,,,,0,0,0,0,0,0,,,,0,10.0.0.1:80,\n"
    "\n";

static void test_traffic_parse_haproxy_stat_slots(void **state)
{
    struct traffic_backend *b;
    struct ferr err;
    size_t n;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(traffic_parse_haproxy_stat(stat_answer,
                                                sizeof(stat_answer) - 1,
                                                "app", &b, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 4);
    assert_string_equal(b[0].name, "slot1");
    assert_string_equal(b[0].addr, "127.0.0.1:8081");
    assert_string_equal(b[0].state, "ready");
    assert_int_equal(b[0].weight, 90);
    assert_int_equal(b[0].requests, 17);
    assert_int_equal(b[0].errors_5xx, 1);
    assert_int_equal(b[0].active, 2);
    assert_string_equal(b[1].state, "draining");
    /* req_tot empty: stot stands in */
    assert_int_equal(b[1].requests, 3);
    assert_string_equal(b[2].state, "maint");
    assert_string_equal(b[3].state, "down");
    traffic_backends_free(b, n);
}

static const char nul_answer[] =
    "# pxname,svname,status,weight\napp,s\0x,UP,1\n";

static void test_traffic_parse_haproxy_stat_errors(void **state)
{
    static const char *bad[] = {
        "Unknown command. Please enter one of the following commands "
        "only :\n  help\n",
        "Permission denied\n",
        "",
        "# qcur,qmax\napp,slot1\n",
        "# pxname,svname,status,weight\napp,slot1,UP,x9\n",
        "# pxname,svname,status,weight\napp,slot1,UP\n",
        "# pxname,svname,status,weight,scur\napp,,UP,1,0\n",
        "# pxname,svname,status,weight\napp,s,UP,99999999999\n",
    };
    struct traffic_backend *b;
    struct ferr err;
    size_t n;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(traffic_parse_haproxy_stat(bad[i], strlen(bad[i]),
                                                    "app", &b, &n, &err),
                         FERR_PARSE);
        assert_null(b);
        assert_int_equal(n, 0);
    }
    /* a NUL inside the answer is data like any other byte */
    ferr_clear(&err);
    assert_int_equal(traffic_parse_haproxy_stat(nul_answer,
                                                sizeof(nul_answer) - 1,
                                                "app", &b, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 1);
    traffic_backends_free(b, n);
}

static void test_traffic_parse_ferry_answer(void **state)
{
    static const char good[] =
        "{\"backends\":[{\"name\":\"production-v7-1\",\"addr\":"
        "\"127.0.0.1:8081\",\"weight\":90,\"state\":\"ready\",\"requests\":"
        "120,\"errors_5xx\":3,\"active\":1},{\"name\":\"production-v6-1\","
        "\"addr\":\"127.0.0.1:8082\",\"weight\":0,\"state\":\"draining\"}]}";
    static const char *bad[] = {
        "", "[]", "{}", "{\"backends\":{}}", "{\"backends\":[1]}",
        "{\"backends\":[{\"name\":\"a\"}]}",
        "{\"backends\":[{\"name\":\"a\",\"addr\":\"b\",\"weight\":-1}]}",
        "{\"backends\":[{\"name\":\"a\",\"addr\":\"b\",\"weight\":\"1\"}]}",
        "{\"backends\":[{\"name\":\"a\",\"addr\":\"b\",\"state\":3}]}",
        "{\"backends\":[{\"name\":\"a\",\"addr\":\"b\",\"weight\":"
        "99999999999}]}",
    };
    struct traffic_backend *b;
    struct ferr err;
    size_t n;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(traffic_parse_ferry_answer(good, sizeof(good) - 1, &b,
                                                &n, &err),
                     FERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(b[0].name, "production-v7-1");
    assert_string_equal(b[0].addr, "127.0.0.1:8081");
    assert_int_equal(b[0].weight, 90);
    assert_int_equal(b[0].requests, 120);
    assert_int_equal(b[0].errors_5xx, 3);
    assert_int_equal(b[0].active, 1);
    assert_string_equal(b[1].state, "draining");
    assert_int_equal(b[1].requests, 0);
    traffic_backends_free(b, n);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(traffic_parse_ferry_answer(bad[i], strlen(bad[i]),
                                                    &b, &n, &err),
                         FERR_PARSE);
        assert_null(b);
    }
}

/* ---- HAProxy, for real ----------------------------------------------- */

static void test_traffic_haproxy_weights_split(void **state)
{
    struct env *e = *state;
    struct traffic *t = open_hap(e);
    struct traffic_backend want[2] = {
        { .name = "v1", .addr = e->addr[0], .weight = 90 },
        { .name = "v2", .addr = e->addr[1], .weight = 10 },
    };
    struct ferr err;
    int one;
    int two;

    ferr_clear(&err);
    assert_int_equal(traffic_set(t, want, 2, &err), FERR_OK);
    count(e, 100, &one, &two);
    assert_int_equal(one + two, 100);
    assert_in_range(one, 85, 95);
    /* 50/50 now, on the same slots */
    want[0].weight = 1;
    want[1].weight = 1;
    assert_int_equal(traffic_set(t, want, 2, &err), FERR_OK);
    count(e, 20, &one, &two);
    assert_int_equal(one, 10);
    assert_int_equal(two, 10);
    traffic_free(t);
}

static void test_traffic_haproxy_get_counters(void **state)
{
    struct env *e = *state;
    struct traffic *t = open_hap(e);
    struct traffic_backend want[2] = {
        { .name = "v1", .addr = e->addr[0], .weight = 3 },
        { .name = "v2", .addr = e->addr[1], .weight = 1 },
    };
    const struct traffic_backend *b1;
    const struct traffic_backend *b2;
    struct traffic_backend *b;
    struct ferr err;
    char answer[4096];
    size_t n;
    int one;
    int two;

    ferr_clear(&err);
    assert_int_equal(traffic_set(t, want, 2, &err), FERR_OK);
    count(e, 40, &one, &two);
    /* python's http.server answers DELETE with 501 */
    for (int i = 0; i < 4; i++)
        http(e->fe_port, "DELETE", answer, sizeof(answer));
    assert_int_equal(traffic_get(t, &b, &n, &err), FERR_OK);
    assert_int_equal(n, 2); /* the unused slots are not in the set */
    b1 = find(b, n, e->addr[0]);
    b2 = find(b, n, e->addr[1]);
    assert_non_null(b1);
    assert_non_null(b2);
    assert_string_equal(b1->state, "ready");
    assert_int_equal(b1->weight, 3);
    assert_int_equal(b1->requests + b2->requests, 44);
    assert_int_equal(b1->requests, (uint64_t)one + 3);
    assert_int_equal(b1->errors_5xx + b2->errors_5xx, 4);
    assert_int_equal(b1->active, 0);
    traffic_backends_free(b, n);
    traffic_free(t);
}

static void test_traffic_haproxy_drain(void **state)
{
    struct env *e = *state;
    struct traffic *t = open_hap(e);
    struct traffic_backend both[2] = {
        { .name = "v1", .addr = e->addr[0], .weight = 1 },
        { .name = "v2", .addr = e->addr[1], .weight = 1 },
    };
    const char *old[1] = { e->addr[0] };
    const struct traffic_backend *b1;
    struct traffic_backend *b;
    struct ferr err;
    size_t n;
    int one;
    int two;

    ferr_clear(&err);
    assert_int_equal(traffic_set(t, both, 2, &err), FERR_OK);
    assert_int_equal(traffic_set(t, &both[1], 1, &err), FERR_OK);
    count(e, 10, &one, &two);
    assert_int_equal(one, 0);
    assert_int_equal(two, 10);
    assert_int_equal(traffic_get(t, &b, &n, &err), FERR_OK);
    b1 = find(b, n, e->addr[0]);
    assert_non_null(b1);
    assert_string_equal(b1->state, "draining");
    traffic_backends_free(b, n);
    assert_int_equal(traffic_wait_drained(t, old, 1, 2000, &err), FERR_OK);
    /* and back: the draining slot on that address is reused */
    assert_int_equal(traffic_set(t, both, 2, &err), FERR_OK);
    count(e, 10, &one, &two);
    assert_int_equal(one, 5);
    assert_int_equal(traffic_get(t, &b, &n, &err), FERR_OK);
    assert_int_equal(n, 2);
    traffic_backends_free(b, n);
    traffic_free(t);
}

static void test_traffic_haproxy_no_free_slot(void **state)
{
    struct env *e = *state;
    struct traffic *t = open_hap(e);
    struct traffic_backend want[5];
    char addrs[5][32];
    struct ferr err;

    for (int i = 0; i < 5; i++) {
        snprintf(addrs[i], sizeof(addrs[i]), "127.0.0.1:%d", 7001 + i);
        want[i] = (struct traffic_backend){ .name = "x", .addr = addrs[i],
                                            .weight = 1 };
    }
    ferr_clear(&err);
    assert_int_equal(traffic_set(t, want, 5, &err), FERR_LIMIT);
    assert_non_null(strstr(err.msg, "no free server slot"));
    /* a bad address never reaches haproxy's command line */
    want[0].addr = "127.0.0.1:80;shutdown";
    ferr_clear(&err);
    assert_int_equal(traffic_set(t, want, 1, &err), FERR_INVALID);
    traffic_free(t);
}

static void test_traffic_haproxy_wrong_backend_and_socket(void **state)
{
    struct env *e = *state;
    struct traffic_backend *b;
    struct traffic *t;
    struct ferr err;
    char spec[256];
    size_t n;

    snprintf(spec, sizeof(spec), "haproxy:%s:nope", e->sock);
    ferr_clear(&err);
    assert_int_equal(traffic_open(spec, &t, &err), FERR_OK);
    assert_int_equal(traffic_get(t, &b, &n, &err), FERR_IO);
    assert_non_null(strstr(err.msg, "no backend 'nope'"));
    traffic_free(t);
    snprintf(spec, sizeof(spec), "haproxy:%s/missing.sock:app", e->dir);
    ferr_clear(&err);
    assert_int_equal(traffic_open(spec, &t, &err), FERR_OK);
    assert_int_equal(traffic_get(t, &b, &n, &err), FERR_IO);
    assert_non_null(strstr(err.msg, "cannot reach haproxy"));
    traffic_free(t);
}

/* ---- ferry proxy, against a stand-in for its admin API ---------------- */

static const char fake_admin[] =
    "import http.server, json, sys\n"
    "state = {'backends': []}\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    def log_message(self, *a): pass\n"
    "    def answer(self, code, obj):\n"
    "        body = json.dumps(obj).encode()\n"
    "        self.send_response(code)\n"
    "        self.send_header('Content-Length', str(len(body)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(body)\n"
    "    def do_GET(self):\n"
    "        self.answer(200, state)\n"
    "    def do_PUT(self):\n"
    "        n = int(self.headers['Content-Length'])\n"
    "        req = json.loads(self.rfile.read(n))\n"
    "        if any(b['weight'] > 1000 for b in req['backends']):\n"
    "            return self.answer(400, {'error': 'weight over 1000'})\n"
    "        state['backends'] = [dict(b, state='ready', requests=0,\n"
    "            errors_5xx=0, active=0) for b in req['backends']]\n"
    "        self.answer(200, state)\n"
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), H)"
    ".serve_forever()\n";

static void test_traffic_ferry_set_get(void **state)
{
    struct env *e = *state;
    struct traffic_backend want[2] = {
        { .name = "production-v7-1", .addr = e->addr[0], .weight = 90 },
        { .name = "production-v6-1", .addr = e->addr[1], .weight = 10 },
    };
    struct traffic_backend *b;
    struct traffic *t;
    struct ferr err;
    char path[256];
    char cmd[256];
    size_t n;

    snprintf(path, sizeof(path), "%s/admin.py", e->dir);
    put(path, fake_admin);
    e->admin_port = free_port();
    snprintf(cmd, sizeof(cmd), "exec " PY " admin.py %u >admin.log 2>&1",
             e->admin_port);
    start(e, cmd);
    wait_port(e->admin_port);
    snprintf(cmd, sizeof(cmd), "ferry:127.0.0.1:%u", e->admin_port);
    ferr_clear(&err);
    assert_int_equal(traffic_open(cmd, &t, &err), FERR_OK);
    assert_int_equal(traffic_set(t, want, 2, &err), FERR_OK);
    assert_int_equal(traffic_get(t, &b, &n, &err), FERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(b[0].name, "production-v7-1");
    assert_string_equal(b[0].addr, e->addr[0]);
    assert_int_equal(b[0].weight, 90);
    assert_string_equal(b[0].state, "ready");
    traffic_backends_free(b, n);
    /* the proxy's "error" is the message */
    want[0].weight = 5000;
    assert_int_equal(traffic_set(t, want, 2, &err), FERR_IO);
    assert_non_null(strstr(err.msg, "weight over 1000"));
    traffic_free(t);
}

static void test_traffic_ferry_unreachable(void **state)
{
    struct traffic_backend *b;
    struct traffic *t;
    struct ferr err;
    char spec[64];
    size_t n;

    (void)state;
    snprintf(spec, sizeof(spec), "ferry:127.0.0.1:%u", free_port());
    ferr_clear(&err);
    assert_int_equal(traffic_open(spec, &t, &err), FERR_OK);
    assert_int_equal(traffic_get(t, &b, &n, &err), FERR_IO);
    assert_null(b);
    traffic_free(t);
    ferr_clear(&err);
    assert_int_equal(traffic_open("ferry:unix:/nonexistent/admin.sock", &t,
                                  &err),
                     FERR_OK);
    assert_int_equal(traffic_get(t, &b, &n, &err), FERR_IO);
    traffic_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_traffic_open_specs),
        cmocka_unit_test(test_traffic_parse_haproxy_stat_slots),
        cmocka_unit_test(test_traffic_parse_haproxy_stat_errors),
        cmocka_unit_test(test_traffic_parse_ferry_answer),
        cmocka_unit_test_setup_teardown(test_traffic_haproxy_weights_split,
                                        env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_traffic_haproxy_get_counters,
                                        env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_traffic_haproxy_drain,
                                        env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(test_traffic_haproxy_no_free_slot,
                                        env_setup, env_teardown),
        cmocka_unit_test_setup_teardown(
            test_traffic_haproxy_wrong_backend_and_socket, env_setup,
            env_teardown),
        cmocka_unit_test_setup_teardown(test_traffic_ferry_set_get,
                                        env_setup, env_teardown),
        cmocka_unit_test(test_traffic_ferry_unreachable),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
