/* proxy_cmd: `ferry proxy` — parse its flags, start the data plane
 * (src/proxy) with its admin API, print where they listen, and serve
 * until SIGTERM/SIGINT.  Nothing else: the proxy is its own layer. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "proxy/admin.h"
#include "proxy/proxy.h"
#include "util/limits.h"
#include "util/span.h"

const char cli_proxy_usage[] =
    "usage: ferry proxy --listen HOST:PORT --admin HOST:PORT|unix:/PATH\n"
    "                   [--state FILE] [--max-connections N]\n"
    "\n"
    "The data plane: an HTTP/1.1 reverse proxy over weighted backends,\n"
    "changed atomically through the admin API (GET/PUT /backends,\n"
    "POST /backends/NAME/drain, GET /stats, GET /healthz).\n"
    "  --listen HOST:PORT     where clients connect (port 0: any free port)\n"
    "  --admin ADDR           the admin API: a loopback HOST:PORT or\n"
    "                         unix:/PATH\n"
    "  --state FILE           keep the backend set here and restore it on\n"
    "                         start\n"
    "  --max-connections N    client connections at once (default 4096)\n"
    "SIGTERM or SIGINT: stop accepting, finish requests in flight (at most\n"
    "10 s), exit 0.\n";

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "ferry proxy: %s\n", msg);
    fputs(cli_proxy_usage, stderr);
    return 2;
}

int cli_proxy(int argc, char **argv)
{
    struct proxy_opts o;
    const char *admin_at = NULL;
    const char *state = NULL;
    struct proxy *px = NULL;
    struct admin *adm = NULL;
    struct ferr err;
    char msg[1200];
    int status = 0;

    memset(&o, 0, sizeof(o));
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(cli_proxy_usage, stdout);
            return 0;
        }
        if (strcmp(a, "--listen") != 0 && strcmp(a, "--admin") != 0 &&
            strcmp(a, "--state") != 0 &&
            strcmp(a, "--max-connections") != 0) {
            snprintf(msg, sizeof(msg), "unknown option '%s'", a);
            return usage(msg);
        }
        if (!val) {
            snprintf(msg, sizeof(msg), "option '%s' needs a value", a);
            return usage(msg);
        }
        i++;
        if (strcmp(a, "--listen") == 0) {
            o.listen = val;
        } else if (strcmp(a, "--admin") == 0) {
            admin_at = val;
        } else if (strcmp(a, "--state") == 0) {
            state = val;
        } else {
            uint64_t n;

            if (span_to_u64(span_cstr(val), &n) || n < 1 || n > 1000000)
                return usage("--max-connections takes a number from 1 to "
                             "1000000");
            o.max_connections = (unsigned)n;
        }
    }
    if (!o.listen || !admin_at)
        return usage("--listen and --admin are required");
    ferr_clear(&err);
    if (proxy_new(&o, &px, &err) || admin_new(px, admin_at, state, &adm,
                                              &err)) {
        fprintf(stderr, "ferry proxy: %s\n",
                ferr_format(&err, msg, sizeof(msg)));
        status = 2;
        goto done;
    }
    printf("ferry proxy listening on %s, admin on %s\n",
           proxy_listen_addr(px), admin_addr(adm));
    fflush(stdout);
    if (proxy_run(px, &err)) {
        fprintf(stderr, "ferry proxy: %s\n",
                ferr_format(&err, msg, sizeof(msg)));
        status = 1;
    }
done:
    admin_free(adm);
    proxy_free(px);
    return status;
}
