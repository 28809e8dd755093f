/* serve_cmd: `ferry serve` — parse its flags and run the control plane
 * (src/server).  Nothing else: the server is in its own layer. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "engine/cjob.h"
#include "server/serve.h"
#include "util/span.h"

static int usage(const char *msg)
{
    if (msg)
        fprintf(stderr, "ferry serve: %s\n", msg);
    cli_help("serve");
    return 2;
}

int cli_serve(int argc, char **argv)
{
    struct server_opts o;
    struct ferr err;
    char msg[1200];

    memset(&o, 0, sizeof(o));
    o.home = ".ferry-home";
    o.listen = "127.0.0.1:8080";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_help("serve");
            return 0;
        } else if (strcmp(a, "--init") == 0) {
            o.init = true;
        } else if (strcmp(a, "--fail-on-restart") == 0) {
            o.fail_on_restart = true;
        } else if (strcmp(a, "--platform") == 0) {
            /* runs-on LABEL runs in container IMAGE (its workers get
             * the map in their spec) */
            if (!val)
                return usage("an option needs a value");
            i++;
            ferr_clear(&err);
            if (cjob_platform_add(val, &err))
                return usage(err.msg);
        } else if (strcmp(a, "--home") == 0 || strcmp(a, "--listen") == 0 ||
                   strcmp(a, "--db") == 0 || strcmp(a, "--slots") == 0 ||
                   strcmp(a, "--runs") == 0 || strcmp(a, "--notify") == 0) {
            if (!val)
                return usage("an option needs a value");
            i++;
            if (strcmp(a, "--home") == 0) {
                o.home = val;
            } else if (strcmp(a, "--listen") == 0) {
                o.listen = val;
            } else if (strcmp(a, "--db") == 0) {
                o.db = val;
            } else if (strcmp(a, "--notify") == 0) {
                o.notify = val;
            } else {
                uint64_t n;

                if (span_to_u64(span_cstr(val), &n) || n < 1 || n > 1024)
                    return usage("--slots and --runs take a number from 1 "
                                 "to 1024");
                if (strcmp(a, "--slots") == 0)
                    o.slots = (unsigned)n;
                else
                    o.runs = (unsigned)n;
            }
        } else {
            snprintf(msg, sizeof(msg), "unknown option '%s'", a);
            return usage(msg);
        }
    }
    cjob_reap_orphans(); /* what a killed ferry left in the engine */
    ferr_clear(&err);
    if (serve_run(&o, &err)) {
        fprintf(stderr, "ferry serve: %s\n",
                ferr_format(&err, msg, sizeof(msg)));
        return 2;
    }
    return 0;
}
