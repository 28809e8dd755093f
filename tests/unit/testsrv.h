/* testsrv: real servers for unit tests — a temp dir, child processes in
 * their own process groups (stopped with kill + waitpid from a cmocka
 * teardown, so also when an assertion failed), a tiny python3 HTTP
 * server that prints its port, TCP listeners that never answer, and
 * free ports.  Header-only (static inline) so that each *_test.c stays
 * one file to build. */
#ifndef FERRY_TESTS_TESTSRV_H
#define FERRY_TESTS_TESTSRV_H

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TESTSRV_PYTHON "/usr/bin/python3"

/* The python3 HTTP server: GET /ok (200 "all ok here"), /fail (500
 * "boom"), /redirect (302 to /ok), /big (100000 'x'), /echo… (any
 * method: the method, path, X-Test header and body); anything else 404.
 * argv[1], when given, is a unix socket path served the same way.  It
 * prints its TCP port on a line and serves until killed. */
static const char testsrv_py[] =
    "import sys, http.server, socketserver, threading\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def log_message(self, *a): pass\n"
    "    def reply(self, code, body, extra=()):\n"
    "        b = body.encode()\n"
    "        self.send_response(code)\n"
    "        for k, v in extra: self.send_header(k, v)\n"
    "        self.send_header('Content-Length', str(len(b)))\n"
    "        self.end_headers()\n"
    "        if self.command != 'HEAD': self.wfile.write(b)\n"
    "    def echo(self):\n"
    "        n = int(self.headers.get('Content-Length') or 0)\n"
    "        body = self.rfile.read(n).decode() if n else ''\n"
    "        self.reply(200, '%s %s\\nx-test=%s\\nbody=%s\\n' % (self.command,"
    " self.path, self.headers.get('X-Test'), body))\n"
    "    def do_GET(self):\n"
    "        p = self.path\n"
    "        if p.startswith('/echo'): self.echo()\n"
    "        elif p == '/ok': self.reply(200, 'all ok here\\n')\n"
    "        elif p == '/fail': self.reply(500, 'boom\\n')\n"
    "        elif p == '/redirect': self.reply(302, 'moved\\n',"
    " [('Location', '/ok')])\n"
    "        elif p == '/big': self.reply(200, 'x' * 100000)\n"
    "        else: self.reply(404, 'no such page\\n')\n"
    "    do_HEAD = do_GET\n"
    "    do_POST = do_PUT = do_DELETE = echo\n"
    "class T(socketserver.ThreadingMixIn, http.server.HTTPServer):\n"
    "    daemon_threads = True\n"
    "class U(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):\n"
    "    daemon_threads = True\n"
    "    def get_request(self):\n"
    "        s, _ = self.socket.accept()\n"
    "        return s, ('unix', 0)\n"
    "srv = T(('127.0.0.1', 0), H)\n"
    "if len(sys.argv) > 1:\n"
    "    u = U(sys.argv[1], H)\n"
    "    threading.Thread(target=u.serve_forever, daemon=True).start()\n"
    "print(srv.server_address[1], flush=True)\n"
    "srv.serve_forever()\n";

static inline void testsrv_pause_ms(int ms)
{
    (void)poll(NULL, 0, ms);
}

static inline long long testsrv_now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* A fresh directory under /tmp in @out; false on failure. */
static inline bool testsrv_tmpdir(char *out, size_t n)
{
    snprintf(out, n, "/tmp/ferry-test-XXXXXX");
    return mkdtemp(out) != NULL;
}

static inline int testsrv_rm_one(const char *path, const struct stat *st,
                                 int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    (void)remove(path);
    return 0;
}

/* rm -rf @dir (NULL or "" is a no-op). */
static inline void testsrv_rmtree(const char *dir)
{
    if (dir && *dir)
        (void)nftw(dir, testsrv_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Start @argv as the leader of a new process group; its stdout goes to a
 * pipe whose read end is *@out_fd (when @out_fd is not NULL) or to
 * @log_path (or /dev/null); stderr to @log_path or /dev/null.  Returns
 * the pid or -1. */
static inline pid_t testsrv_spawn(char *const argv[], int *out_fd,
                                  const char *log_path)
{
    int p[2] = {-1, -1};
    int logfd = open(log_path ? log_path : "/dev/null",
                     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    int nul = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t pid;

    if (out_fd && pipe2(p, O_CLOEXEC) != 0)
        return -1;
    pid = fork();
    if (pid == 0) {
        /* a test that crashes takes its servers along */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        setpgid(0, 0);
        dup2(nul, 0);
        dup2(out_fd ? p[1] : logfd, 1);
        dup2(logfd, 2);
        execv(argv[0], argv);
        _exit(127);
    }
    if (pid > 0)
        setpgid(pid, pid);
    close(logfd);
    close(nul);
    if (out_fd) {
        close(p[1]);
        *out_fd = pid > 0 ? p[0] : -1;
        if (pid < 0)
            close(p[0]);
    }
    return pid;
}

/* Kill @pid's process group and reap @pid; *@pid becomes -1. */
static inline void testsrv_stop(pid_t *pid)
{
    if (*pid <= 1)
        return;
    kill(-*pid, SIGKILL);
    while (waitpid(*pid, NULL, 0) < 0 && errno == EINTR)
        ;
    *pid = -1;
}

/* Read one line from @fd (newline dropped) within @timeout_ms. */
static inline bool testsrv_read_line(int fd, char *out, size_t n,
                                     int timeout_ms)
{
    long long end = testsrv_now_ms() + timeout_ms;
    size_t len = 0;

    while (len + 1 < n) {
        struct pollfd pf = {fd, POLLIN, 0};
        long long left = end - testsrv_now_ms();
        char c;

        if (left <= 0 || poll(&pf, 1, (int)left) <= 0)
            return false;
        if (read(fd, &c, 1) != 1)
            return false;
        if (c == '\n')
            break;
        out[len++] = c;
    }
    out[len] = '\0';
    return true;
}

/* A TCP port on 127.0.0.1 that was free a moment ago (bind 0, release). */
static inline unsigned testsrv_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unsigned port = 0;

    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* A listening socket on 127.0.0.1 (port in *@port) that never accepts:
 * the kernel completes connections, nobody answers. */
static inline int testsrv_listener(unsigned *port)
{
    struct sockaddr_in a;
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    *port = 0;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
        listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* Start the python3 HTTP server (also on unix socket @unix_path when not
 * NULL); *@port gets its port.  Returns the pid or -1. */
static inline pid_t testsrv_python_http(const char *unix_path, unsigned *port)
{
    char *argv[] = {TESTSRV_PYTHON, "-c", (char *)testsrv_py, (char *)unix_path,
                    NULL};
    char line[32];
    int fd = -1;
    pid_t pid = testsrv_spawn(argv, &fd, NULL);
    bool ok;

    *port = 0;
    if (pid < 0)
        return -1;
    ok = testsrv_read_line(fd, line, sizeof(line), 15000);
    close(fd);
    if (ok)
        *port = (unsigned)strtoul(line, NULL, 10);
    if (!ok || *port == 0) {
        testsrv_stop(&pid);
        return -1;
    }
    return pid;
}

#endif
